package main

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/tive-dev/tive/harness/data"
	"github.com/tive-dev/tive/harness/pipeline"
)

// TestRunOnBuiltinWorld runs the world -> warmup -> select pipeline on a tiny
// shapes world (no download needed).
func TestRunOnBuiltinWorld(t *testing.T) {
	dir := t.TempDir()
	spec := writeSpec(t, dir, "w.yaml", `name: world-random
data: {source: world}
world: {profile: tiny, assets: shapes, seed: 3}
selection: {method: random-per-task, budget: 0.3}
sweep:
  seed: [0, 1]
`)
	store := filepath.Join(dir, "store")
	code, out, errs := runTive(t, "run", spec, "--store", store, "--json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	s := summaryOf(t, out)
	if len(s.Stages) != 5 || s.Stages[0].Stage != "world" {
		t.Fatalf("stages: %+v", s.Stages)
	}
	res, err := pipeline.ReadResults(s.Results)
	if err != nil {
		t.Fatal(err)
	}
	pool, err := data.Load(filepath.Join(res.Runs[0].Outputs["world"], "mixture.json"))
	if err != nil {
		t.Fatal(err)
	}
	sub, err := data.Load(filepath.Join(res.Runs[0].Outputs["select"], "subset.json"))
	if err != nil {
		t.Fatal(err)
	}
	if len(sub) == 0 || len(sub) > len(pool)*3/10 {
		t.Errorf("subset of %d from a pool of %d at budget 0.3", len(sub), len(pool))
	}
	if res.Runs[0].Keys["world"] != res.Runs[1].Keys["world"] {
		t.Error("the two seeds of one world generated it twice")
	}
	if _, err := os.Stat(filepath.Join(res.Runs[1].Outputs["warmup"], "warmup.json")); err != nil {
		t.Error(err)
	}
}

// TestShippedSpecsValidate keeps every spec under experiments/ valid.
func TestShippedSpecsValidate(t *testing.T) {
	specs, _ := filepath.Glob("../../experiments/*.yaml")
	if len(specs) == 0 {
		t.Fatal("no specs under experiments/")
	}
	code, out, errs := runTive(t, append([]string{"validate"}, specs...)...)
	if code != 0 {
		t.Fatalf("exit %d:\n%s", code, errs)
	}
	if strings.Count(out, ": ok") != len(specs) {
		t.Errorf("validate output:\n%s", out)
	}
}

// TestMainJobSmoke runs the main job's spec (scripts/main.sh) in its smoke
// profile: LLaVA's recipe end to end (vision tower, language model, word
// alignment, TIVE's selection, instruction tuning with rehearsal, scoring)
// on the tiny shapes world, ending with the result table.
func TestMainJobSmoke(t *testing.T) {
	main, err := os.ReadFile("../../scripts/main.sh")
	if err != nil || !strings.Contains(string(main), "bin/tive run experiments/world-recipe.yaml") {
		t.Fatalf("scripts/main.sh does not run experiments/world-recipe.yaml: %v", err)
	}
	store := filepath.Join(t.TempDir(), "store")
	code, out, errs := runTive(t, "run", "../../experiments/world-recipe.yaml", "--profile", "smoke", "--store", store)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	for _, stage := range []string{"vision", "language", "pretrain", "features", "train (selection.method=tive seed=0)"} {
		if !strings.Contains(errs, "] "+stage+": ran in ") {
			t.Errorf("stage %s did not run:\n%s", stage, errs)
		}
	}
	if !strings.Contains(out, "| best constant answer |") || !strings.Contains(out, "table: "+filepath.Join(store, "results", "world-recipe-smoke.md")) {
		t.Errorf("no result table:\n%s", out)
	}
}

// TestRunPrintsResultTable: `tive run` of a spec that scores ends with its
// result: the table of methods × suites (mean ± the 95% half-width over
// seeds, read back here from each run's scores.json), the best constant
// answers (chance.json) as the last row, what the cells are, and the paths
// of the table and plot files it wrote beside the results file.
func TestRunPrintsResultTable(t *testing.T) {
	dir := t.TempDir()
	// jobsSpec's two methods, over two seeds.
	spec := writeSpec(t, dir, "r.yaml", strings.Replace(jobsSpec, "sweep:\n", "sweep:\n  seed: [0, 1]\n", 1))
	store := filepath.Join(dir, "store")
	code, out, errs := runTive(t, "run", spec, "--store", store)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	results := filepath.Join(store, "results", "jobs-bytes.json")
	if !strings.Contains(out, "results: "+results+"\n") {
		t.Fatalf("no results line:\n%s", out)
	}
	res, err := pipeline.ReadResults(results)
	if err != nil {
		t.Fatal(err)
	}
	type scored map[string]struct {
		Score float64 `json:"score"`
	}
	read := func(path string) scored {
		var s scored
		b, err := os.ReadFile(path)
		if err == nil {
			err = json.Unmarshal(b, &s)
		}
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	// Two seeds: the half-width is t(0.975, 1) · sd / √2.
	cell := func(a, b float64) string {
		m, sd := (a+b)/2, math.Abs(a-b)/math.Sqrt2
		return fmt.Sprintf("%.1f ± %.1f", m, 12.706204736*sd/math.Sqrt2)
	}
	var want []string
	for _, method := range []string{"tive", "random"} {
		row := []string{method, "2"}
		for _, b := range []string{"pope", "gqa"} {
			var v []float64
			for _, r := range res.Runs {
				if slices.Contains(strings.Fields(r.Label), "selection.method="+method) {
					v = append(v, read(filepath.Join(r.Outputs["score"], "scores.json"))[b].Score)
				}
			}
			row = append(row, cell(v[0], v[1]))
		}
		want = append(want, strings.Join(row, " | "))
	}
	ch := read(filepath.Join(res.Runs[0].Outputs["chance"], "chance.json"))
	want = append(want, fmt.Sprintf("best constant answer | – | %.1f | %.1f", ch["pope"].Score, ch["gqa"].Score))

	lines := strings.Split(strings.TrimSpace(out), "\n")
	var rows []string
	for _, l := range lines {
		if strings.HasPrefix(l, "| ") && !strings.HasPrefix(l, "| method") {
			cells := strings.Split(strings.Trim(l, "| "), "|")
			for i := range cells {
				cells[i] = strings.TrimSpace(cells[i])
			}
			// method, seeds, then the suites (subset % between them).
			rows = append(rows, strings.Join(append(cells[:2:2], cells[3:5]...), " | "))
		}
	}
	if strings.Join(rows, "\n") != strings.Join(want, "\n") {
		t.Errorf("table rows:\n%s\nwant:\n%s\nstdout:\n%s", strings.Join(rows, "\n"), strings.Join(want, "\n"), out)
	}
	stem := strings.TrimSuffix(results, ".json")
	tail := lines[len(lines)-3:]
	wantTail := []string{
		"Cells are mean ± half-width of the 95% Student-t interval over 2 seeds (t with 1 degrees of freedom). The last row is the best constant answer of each suite.",
		"table: " + stem + ".md, " + stem + ".csv, " + stem + ".tex",
		"plot: " + stem + ".png, " + stem + ".svg",
	}
	if strings.Join(tail, "\n") != strings.Join(wantTail, "\n") {
		t.Errorf("stdout ends:\n%s\nwant:\n%s", strings.Join(tail, "\n"), strings.Join(wantTail, "\n"))
	}
	for _, ext := range []string{".md", ".csv", ".tex", ".png", ".svg"} {
		if fi, err := os.Stat(stem + ext); err != nil || fi.Size() == 0 {
			t.Errorf("%s%s: %v", stem, ext, err)
		}
	}
}
