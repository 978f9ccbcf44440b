package spec

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzLoad feeds arbitrary YAML to the spec loader (beside the test
// include base.yaml). It must refuse it with an error that names the file
// (Load validates every run), or load a study that the same bytes load as
// again.
func FuzzLoad(f *testing.F) {
	for _, name := range []string{"study.yaml", "base.yaml"} {
		b, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte("name: x\ndata: {records: p.jsonl}\nselection: {method: tive, budget: 2}\n"))
	f.Add([]byte("name: x\ndata: {source: world}\nlanguage: {records: 10, max_fill: -1}\nsweep:\n  seed: [0, 1]\n"))
	f.Add([]byte("name: [\n"))
	base, err := os.ReadFile(filepath.Join("testdata", "base.yaml"))
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		dir := t.TempDir()
		os.WriteFile(filepath.Join(dir, "base.yaml"), base, 0o644)
		file := filepath.Join(dir, "s.yaml")
		os.WriteFile(file, b, 0o644)
		st, err := Load(file, "")
		if err != nil {
			if !strings.Contains(err.Error(), "s.yaml") && !strings.Contains(err.Error(), "base.yaml") {
				t.Fatalf("error names no file: %v", err)
			}
			return
		}
		again, err := Load(file, "")
		if err != nil || again.Hash() != st.Hash() {
			t.Fatalf("second load: %v, hash %s vs %s", err, again.Hash(), st.Hash())
		}
	})
}
