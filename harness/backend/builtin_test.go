package backend

import (
	"bytes"
	"fmt"
	"image/png"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/tive-dev/tive/harness/model"
)

// TestLoadTokensOnce: loadTokens reads a tower-tokens file once and shares
// it while the file stays as it was; a rewritten file is read again, and a
// missing one is an error.
func TestLoadTokensOnce(t *testing.T) {
	recs, imgs := model.Synthetic(6, 1)
	m, err := model.New(model.DefaultConfig(), model.BuildVocab(recs, 1), 1)
	if err != nil {
		t.Fatal(err)
	}
	var files [][]byte
	for _, p := range slices.Sorted(maps.Keys(imgs)) {
		var b bytes.Buffer
		if err := png.Encode(&b, imgs[p]); err != nil {
			t.Fatal(err)
		}
		files = append(files, b.Bytes())
	}
	save := func(path string, n int) {
		tok, err := model.ComputeTowerTokens(m, n, func(i int) ([]byte, error) { return files[i], nil }, nil)
		if err != nil {
			t.Fatal(err)
		}
		if err := tok.Save(path); err != nil {
			t.Fatal(err)
		}
	}
	path := filepath.Join(t.TempDir(), "tokens.safetensors")
	save(path, len(files))
	a, err := loadTokens(path)
	if err != nil {
		t.Fatal(err)
	}
	b, err := loadTokens(path)
	if err != nil {
		t.Fatal(err)
	}
	if a != b || a.Len() != len(files) {
		t.Fatalf("second load: %p (%d images), first %p (%d)", b, b.Len(), a, a.Len())
	}
	save(path, 1) // another size, whatever the clock's resolution
	c, err := loadTokens(path)
	if err != nil {
		t.Fatal(err)
	}
	if c == a || c.Len() != 1 {
		t.Fatalf("rewritten file: got the old tokens (%d images), want 1 image", c.Len())
	}
	if _, err := loadTokens(filepath.Join(t.TempDir(), "missing.safetensors")); err == nil {
		t.Fatal("missing file: no error")
	}
}

// BenchmarkLoadTokens loads a tower-tokens file the size of the quick
// world's (8,919 images × 16 tokens × 256 values, 146 MB) as every stage
// did (model.LoadTowerTokens) and as stages in one process now do
// (loadTokens, read once).
func BenchmarkLoadTokens(b *testing.B) {
	const n, p, w = 8919, 16, 256
	keys := make([]string, n)
	for i := range keys {
		keys[i] = fmt.Sprintf("%032x", i)
	}
	var buf bytes.Buffer
	meta := map[string]string{"format": "tive-tower-tokens-2", "tower": "bench", "keys": strings.Join(keys, "\n")}
	if err := model.WriteSafetensors(&buf, []model.Tensor{{Name: "tokens", Shape: []int{n, p, w}, Data: make([]float32, n*p*w)}}, meta); err != nil {
		b.Fatal(err)
	}
	path := filepath.Join(b.TempDir(), "tokens.safetensors")
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		b.Fatal(err)
	}
	for _, c := range []struct {
		name string
		load func(string) (*model.TowerTokens, error)
	}{{"each", model.LoadTowerTokens}, {"shared", loadTokens}} {
		b.Run(c.name, func(b *testing.B) {
			for range b.N {
				if _, err := c.load(path); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
