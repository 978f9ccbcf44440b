package mmvet

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/tive-dev/tive/benchmarks/internal/testenv"
)

// FuzzScore feeds arbitrary mm-vet.json and grade files to the aggregation.
func FuzzScore(f *testing.F) {
	meta := []byte(`{"v1_0": {"capability": ["rec"]}, "v1_1": {"capability": ["ocr", "math"]}}`)
	f.Add(meta, []byte(`{"v1_0": {"score": [1.0, 0.5]}, "v1_1": {"score": [0.0, 0.3]}}`))
	f.Add(meta, []byte(`{"v1_0": {"score": [1.0]}}`))
	f.Add([]byte(`{"v1_0": {}}`), []byte(`{"v1_0": {"score": [1e308, 1e308]}}`))
	f.Fuzz(func(t *testing.T, metaFile, grades []byte) {
		dir := t.TempDir()
		os.WriteFile(filepath.Join(dir, "mm-vet.json"), metaFile, 0o644)
		g := filepath.Join(dir, "m_gpt-4-grade-2runs.json")
		os.WriteFile(g, grades, 0o644)
		r, err := Score("", "", g)
		testenv.Typed(t, err)
		_ = r
	})
}
