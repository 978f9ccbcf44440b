package backend

import (
	"bytes"
	"image/png"
	"maps"
	"path/filepath"
	"slices"
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
