package main

import (
	"crypto/sha256"
	"encoding/json"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tive-dev/tive/harness/pipeline"
	"github.com/tive-dev/tive/harness/study"
)

// TestReproduceSmoke reproduces every study on the smoke profile, checks
// that the report is complete, and that a second run reruns no stage and
// rewrites every file byte for byte.
func TestReproduceSmoke(t *testing.T) {
	if testing.Short() {
		t.Skip("runs every study on the smoke profile (~2 minutes)")
	}
	dir := t.TempDir()
	store, out := filepath.Join(dir, "store"), filepath.Join(dir, "results")
	args := []string{"reproduce", "--profile", "smoke", "--store", store, "--out", out, "--experiments", "../../experiments", "--json"}
	first := reproduceOnce(t, args)
	if len(first.Studies) != len(study.Reproduction) {
		t.Fatalf("%d studies, want %d", len(first.Studies), len(study.Reproduction))
	}
	want := hashTree(t, filepath.Join(out, "smoke"))
	for _, f := range []string{"summary.json", "CLAIMS.md", "report.md", "main.md", "main.csv", "main.tex", "tasks.md", "redundancy.md", "ratio.md",
		"ablation.md", "ablation-warmup.md", "ablation-projector.md", "planted.md", "planted-kept.md", "cost.md",
		"redundancy.png", "redundancy.svg", "ratio.png", "ratio.svg", "proportions.png", "proportions.svg", "influence.png", "influence.svg", "cost.png", "cost.svg"} {
		if _, ok := want[f]; !ok {
			t.Errorf("results/smoke/%s is missing", f)
		}
	}
	for _, f := range []string{"report.md", "CLAIMS.md"} {
		b, err := os.ReadFile(filepath.Join(out, "smoke", f))
		if err != nil || !strings.Contains(string(b), "`"+pipeline.Arith()+"`") {
			t.Errorf("results/smoke/%s does not name the arithmetic of its model stages, %q (err %v)", f, pipeline.Arith(), err)
		}
	}
	if _, err := os.Stat(filepath.Join(out, "CLAIMS.md")); !os.IsNotExist(err) {
		t.Errorf("smoke wrote results/CLAIMS.md (err %v): only the full profile replaces it", err)
	}

	second := reproduceOnce(t, args)
	for _, s := range second.Studies {
		if s.Ran != 0 {
			t.Errorf("second run of %s ran %d stages, want 0 (all cached)", s.Spec, s.Ran)
		}
	}
	got := hashTree(t, filepath.Join(out, "smoke"))
	for f, h := range want {
		if got[f] != h {
			t.Errorf("second run changed %s", f)
		}
	}
	if len(got) != len(want) {
		t.Errorf("second run wrote %d files, the first %d", len(got), len(want))
	}
}

func reproduceOnce(t *testing.T, args []string) reproduction {
	t.Helper()
	code, stdout, stderr := runTive(t, args...)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr[max(0, len(stderr)-3000):])
	}
	lines := strings.Split(strings.TrimSpace(stdout), "\n")
	var r reproduction
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &r); err != nil {
		t.Fatalf("last stdout line: %v\n%s", err, stdout)
	}
	return r
}

// hashTree maps every file under dir (relative path) to its SHA-256.
func hashTree(t *testing.T, dir string) map[string][32]byte {
	t.Helper()
	out := map[string][32]byte{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		out[rel] = sha256.Sum256(b)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}
