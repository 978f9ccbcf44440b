package notebook

import (
	"bytes"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// root is the checkout this package lives in.
const root = "../.."

// TestResultsMatchFiles renders every table of every committed profile
// through the API and compares it with the file `tive reproduce` wrote.
func TestResultsMatchFiles(t *testing.T) {
	nb := Open(root)
	profiles, err := nb.Profiles()
	if err != nil {
		t.Fatal(err)
	}
	if len(profiles) == 0 {
		t.Fatal("no results/<profile>/summary.json")
	}
	for _, profile := range profiles {
		rep, err := nb.Results(profile)
		if err != nil {
			t.Fatal(err)
		}
		for _, tab := range rep.Tables() {
			got, err := rep.Markdown(tab.Name)
			if err != nil {
				t.Fatal(err)
			}
			want, err := os.ReadFile(filepath.Join(root, "results", profile, tab.Name+".md"))
			if err != nil {
				t.Fatal(err)
			}
			if got != string(want) {
				t.Errorf("results/%s/%s.md differs from the table the API renders from summary.json (rerun tive reproduce --profile %s)", profile, tab.Name, profile)
			}
		}
		if b, err := rep.ScoresPNG("ablation"); err != nil {
			t.Error(err)
		} else if _, err := png.DecodeConfig(bytes.NewReader(b)); err != nil {
			t.Errorf("ablation scores: %v", err)
		}
		for _, name := range []string{"ratio", "cost"} {
			b, err := rep.PNG(name)
			if err != nil {
				t.Fatal(err)
			}
			got, err := png.DecodeConfig(bytes.NewReader(b))
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			f, err := os.Open(filepath.Join(root, "results", profile, name+".png"))
			if err != nil {
				t.Fatal(err)
			}
			want, err := png.DecodeConfig(f)
			f.Close()
			if err != nil {
				t.Fatal(err)
			}
			if got.Width != want.Width || got.Height != want.Height {
				t.Errorf("%s/%s.png: %dx%d, the file %dx%d", profile, name, got.Width, got.Height, want.Width, want.Height)
			}
		}
	}
}

// TestRun runs two methods of the main study on the smoke profile in a new
// store, runs them again (all cached, nothing reported), then changes a
// parameter (only the stages it affects run).
func TestRun(t *testing.T) {
	if testing.Short() {
		t.Skip("runs two smoke runs (~15 s)")
	}
	nb := Open(root)
	nb.Store = t.TempDir()
	var progress bytes.Buffer
	nb.Progress = &progress
	main := func() *Study { return nb.Study("main", "smoke").Sweep("selection.method", []string{"full", "random"}) }
	first, err := nb.Run(main())
	if err != nil {
		t.Fatal(err)
	}
	if first.Ran == 0 || first.Cached != 0 {
		t.Errorf("first run: %s", first)
	}
	if !strings.Contains(progress.String(), "running") {
		t.Errorf("first run reported no running stage:\n%s", progress.String())
	}
	md, err := first.Markdown("main")
	if err != nil {
		t.Fatal(err)
	}
	for _, row := range []string{"| full ", "| random ", "| best constant answer "} {
		if !strings.Contains(md, row) {
			t.Errorf("main table lacks the row %q:\n%s", row, md)
		}
	}
	if _, err := first.Table("tasks"); err == nil {
		t.Error("a main study without tive has a tasks table")
	}
	dir, err := first.Output("main", 0, "world")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "mixture.json")); err != nil {
		t.Errorf("world output: %v", err)
	}

	progress.Reset()
	again, err := nb.Run(main())
	if err != nil {
		t.Fatal(err)
	}
	if again.Ran != 0 || again.Cached != first.Ran {
		t.Errorf("second run: %s, want 0 ran, %d cached", again, first.Ran)
	}
	if progress.Len() != 0 {
		t.Errorf("a cached run reported progress:\n%s", progress.String())
	}
	if md2, _ := again.Markdown("main"); md2 != md {
		t.Errorf("the cached run's table differs:\n%s\nvs\n%s", md2, md)
	}

	half, err := nb.Run(main().Set("selection.budget", 0.3))
	if err != nil {
		t.Fatal(err)
	}
	if half.Ran == 0 || half.Ran >= first.Ran {
		t.Errorf("budget changed: %s, want some stages (not all %d) to run", half, first.Ran)
	}
	if r := half.Study("main").Runs[1]; r.Budget != 0.3 || r.Selected != int(0.3*float64(r.Pool)) {
		t.Errorf("random at 0.3: budget %g, %d of %d selected", r.Budget, r.Selected, r.Pool)
	}
}

func TestErrors(t *testing.T) {
	nb := Open(root)
	nb.Store = t.TempDir()
	for _, tc := range []struct {
		name string
		s    *Study
		want string
	}{
		{"sweep of a scalar", nb.Study("main", "smoke").Sweep("seed", 3), `main: Sweep("seed", 3): values must be a slice, not int`},
		{"unknown key", nb.Study("main", "smoke").Set("selection.bugdet", 0.1), `"selection" has no key "bugdet"`},
		{"unknown study", nb.Study("mian", "smoke"), "mian.yaml"},
		{"unknown profile", nb.Study("main", "huge"), `no profile "huge"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := nb.Run(tc.s); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v, want %q", err, tc.want)
			}
		})
	}
	if _, err := nb.Run(nb.Study("main", "smoke"), nb.Study("ratio", "quick")); err == nil || !strings.Contains(err.Error(), "one profile") {
		t.Errorf("two profiles: err = %v", err)
	}
	rep, err := nb.Results("smoke")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := rep.Table("rati"); err == nil || !strings.Contains(err.Error(), "tables: main, tasks, parts, redundancy, ratio") {
		t.Errorf("unknown table: err = %v", err)
	}
	if _, err := rep.PNG("rati"); err == nil || !strings.Contains(err.Error(), "plots: redundancy, ratio") {
		t.Errorf("unknown plot: err = %v", err)
	}
	if _, err := rep.ScoresPNG("abaltion"); err == nil || !strings.Contains(err.Error(), `no study "abaltion"`) {
		t.Errorf("unknown study: err = %v", err)
	}
	if _, err := rep.Output("main", 0, "world"); err == nil {
		t.Error("committed results have no stage outputs, but Output found one")
	}
}

func TestQuiet(t *testing.T) {
	var b bytes.Buffer
	u := &quiet{w: &b}
	for _, s := range []string{"[1/3] world: cached 0123abcd", "ef01\n[2/3] train (seed=0): running\n[2/3] train (seed=0) [####", "....]  20% (1/5)\n[2/3] train (seed=0): ran in 0.12s -> 89ab\n", "[3/3] score (seed=0): cached 4567\n"} {
		if n, err := u.Write([]byte(s)); n != len(s) || err != nil {
			t.Fatalf("Write = %d, %v", n, err)
		}
	}
	want := "[2/3] train (seed=0): running\n[2/3] train (seed=0): ran in 0.12s -> 89ab\n"
	if b.String() != want {
		t.Errorf("got %q, want %q", b.String(), want)
	}
}
