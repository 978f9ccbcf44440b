package model

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"math"
	"os"
	"strings"

	"github.com/tive-dev/tive/harness/atomic"
)

// TowerTokens are a frozen vision tower's outputs (VLN's rows, before the
// projector: P rows of TowerWidth per image) for a set of image files, so
// that later runs on the same tower pay only for the projector and the
// decoder, and decode no image they hold (LLaVA computes CLIP's features
// of an image the same whatever the step). An image is found by the key of
// its file's bytes (fileKey), whatever folder it was read from; a model
// reads it from them when its ImageSource gives files (DirImages).
//
// Tokens are computed 64 images at a time. A matrix product whose rounding
// depended on the number of rows would make a run on tokens differ in the
// last bits from the same run with its tower in its own batches; with
// OpenBLAS on the development machine they do not (the quick profile's
// trained models are byte-identical either way).
type TowerTokens struct {
	Tower    string // towerSum of the tower they came from
	P, Width int
	rows     map[string]int
	data     []float32
}

// towerTokensFormat names the file layout (TowerTokens.Save).
const towerTokensFormat = "tive-tower-tokens-2"

// fileKey is the hex of the first 16 bytes of the SHA-256 of an image
// file's bytes.
func fileKey(file []byte) string {
	h := sha256.Sum256(file)
	return hex.EncodeToString(h[:16])
}

// towerSum is the hex SHA-256 of the tower's parameters (every vision.*
// parameter: name, then its values as little-endian float32, in model order).
func (m *Model) towerSum() string {
	h := sha256.New()
	var buf [4]byte
	for _, p := range m.params {
		if !strings.HasPrefix(p.Name, "vision.") {
			continue
		}
		h.Write([]byte(p.Name))
		for _, v := range p.W {
			binary.LittleEndian.PutUint32(buf[:], math.Float32bits(v))
			h.Write(buf[:])
		}
	}
	return hex.EncodeToString(h.Sum(nil))
}

// towerFrozen reports whether no parameter of the tower trains.
func (m *Model) towerFrozen() bool {
	for _, p := range m.params {
		if strings.HasPrefix(p.Name, "vision.") && !p.Frozen {
			return false
		}
	}
	return true
}

// ComputeTowerTokens runs m's tower over n image files, file(i) the i-th
// file's bytes (a PNG), 64 images at a time in order; a file whose bytes
// repeat an earlier one's is kept once.
func ComputeTowerTokens(m *Model, n int, file func(i int) ([]byte, error), progress func(done, total int)) (*TowerTokens, error) {
	t := &TowerTokens{Tower: m.towerSum(), P: m.Cfg.visualTokens(), Width: m.Cfg.TowerWidth(), rows: map[string]int{}}
	rows := t.P * t.Width
	var pending [][]uint8
	flush := func() {
		m.towerForward(pending)
		t.data = append(t.data, m.act.vln[:len(pending)*rows]...)
		pending = pending[:0]
	}
	for i := range n {
		b, err := file(i)
		if err != nil {
			return nil, err
		}
		k := fileKey(b)
		if _, ok := t.rows[k]; ok {
			continue
		}
		im, err := decodeImage(b, fmt.Sprintf("%d of %d", i+1, n))
		if err != nil {
			return nil, err
		}
		t.rows[k] = len(t.rows)
		if pending = append(pending, pixels(im, m.Cfg.ImageSize)); len(pending) == 64 {
			flush()
		}
		if progress != nil && (i+1)%64 == 0 {
			progress(i+1, n)
		}
	}
	if len(pending) > 0 {
		flush()
	}
	if progress != nil {
		progress(n, n)
	}
	return t, nil
}

// Len is the number of images held.
func (t *TowerTokens) Len() int { return len(t.rows) }

// ReadsTokens reports whether m reads the tower output of src's image at
// path from its TowerTokens (UseTowerTokens) instead of running the tower.
func (m *Model) ReadsTokens(src ImageSource, path string) (bool, error) {
	_, tok, err := m.imageCache(src, false).get(path)
	return tok != nil, err
}

// lookup returns the tokens of the image file with key k ([P·Width]), or
// nil.
func (t *TowerTokens) lookup(k string) []float32 {
	r, ok := t.rows[k]
	if !ok {
		return nil
	}
	n := t.P * t.Width
	return t.data[r*n : (r+1)*n]
}

// Save writes t atomically as safetensors: one F32 tensor "tokens"
// [images, P, Width], and metadata format, tower, and keys (the file key of
// each image, in row order, newline-separated).
func (t *TowerTokens) Save(path string) error {
	keys := make([]string, len(t.rows))
	for k, r := range t.rows {
		keys[r] = k
	}
	meta := map[string]string{"format": towerTokensFormat, "tower": t.Tower, "keys": strings.Join(keys, "\n")}
	var buf bytes.Buffer
	if err := WriteSafetensors(&buf, []Tensor{{Name: "tokens", Shape: []int{len(keys), t.P, t.Width}, Data: t.data}}, meta); err != nil {
		return err
	}
	return atomic.WriteFile(path, buf.Bytes(), 0o644)
}

// LoadTowerTokens reads a file written by TowerTokens.Save.
func LoadTowerTokens(path string) (*TowerTokens, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	ts, meta, err := ReadSafetensors(b)
	if err != nil {
		return nil, fmt.Errorf("model: %s: %w", path, err)
	}
	if meta["format"] != towerTokensFormat {
		return nil, fmt.Errorf("model: %s: format %q, want %q", path, meta["format"], towerTokensFormat)
	}
	if len(ts) != 1 || ts[0].Name != "tokens" || len(ts[0].Shape) != 3 {
		return nil, fmt.Errorf("model: %s: want one tensor tokens [images, P, width]", path)
	}
	var keys []string
	if meta["keys"] != "" {
		keys = strings.Split(meta["keys"], "\n")
	}
	s := ts[0].Shape
	if len(keys) != s[0] {
		return nil, fmt.Errorf("model: %s: %d keys for %d images", path, len(keys), s[0])
	}
	t := &TowerTokens{Tower: meta["tower"], P: s[1], Width: s[2], rows: make(map[string]int, len(keys)), data: ts[0].Data}
	for r, k := range keys {
		if _, dup := t.rows[k]; dup {
			return nil, fmt.Errorf("model: %s: image key %s twice", path, k)
		}
		t.rows[k] = r
	}
	return t, nil
}

// UseTowerTokens makes m read an image's tower output from t wherever its
// tower does not train (decoding, per-example gradients, and training with
// the tower frozen), computing it only for images t lacks. t must come from
// m's own tower.
func (m *Model) UseTowerTokens(t *TowerTokens) error {
	if t.P != m.Cfg.visualTokens() || t.Width != m.Cfg.TowerWidth() {
		return fmt.Errorf("model: tower tokens of %d×%d per image, the model's tower gives %d×%d", t.P, t.Width, m.Cfg.visualTokens(), m.Cfg.TowerWidth())
	}
	if sum := m.towerSum(); t.Tower != sum {
		return fmt.Errorf("model: tower tokens of tower %s, the model's is %s", short(t.Tower), short(sum))
	}
	m.tokens = t
	return nil
}

func short(sum string) string { return sum[:min(12, len(sum))] }
