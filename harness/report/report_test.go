package report

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

// TestMainTableGolden regenerates the main table from a small committed
// summary and compares it with the golden files in every format.
func TestMainTableGolden(t *testing.T) {
	s, err := ReadSummary(filepath.Join("testdata", "summary.json"))
	if err != nil {
		t.Fatal(err)
	}
	tab := MainTable(s.Study("main"))
	for ext, write := range map[string]func(*bytes.Buffer) error{
		".md":  func(b *bytes.Buffer) error { return tab.Markdown(b) },
		".csv": func(b *bytes.Buffer) error { return tab.CSV(b) },
		".tex": func(b *bytes.Buffer) error { return tab.LaTeX(b) },
	} {
		var got bytes.Buffer
		if err := write(&got); err != nil {
			t.Fatal(err)
		}
		golden := filepath.Join("testdata", "main"+ext)
		if *update {
			os.WriteFile(golden, got.Bytes(), 0o644)
		}
		want, err := os.ReadFile(golden)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got.Bytes(), want) {
			t.Errorf("%s differs from the golden file (go test -update rewrites it)\n--- want\n%s\n--- got\n%s", golden, want, got.Bytes())
		}
	}
}

// TestWriteAll writes every table, plot and claim of the committed summary.
func TestWriteAll(t *testing.T) {
	dir := t.TempDir()
	if err := WriteAll(filepath.Join("testdata", "summary.json"), dir); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"main.md", "main.csv", "main.tex", "tasks.md", "proportions.png", "proportions.svg", "CLAIMS.md", "report.md"} {
		if fi, err := os.Stat(filepath.Join(dir, f)); err != nil || fi.Size() == 0 {
			t.Errorf("%s: %v", f, err)
		}
	}
	claims, _ := os.ReadFile(filepath.Join(dir, "CLAIMS.md"))
	for _, want := range []string{
		"- **holds** — TIVE with 15% of the data performs on par with full data",
		"- **holds** — TIVE beats random selection at every selection ratio (5% to 50%): 5%: 57.6 ± 1.4 vs 53.3 ± 0.7 (TIVE above)",
		"- **not run** — The mixture is redundant",
	} {
		if !bytes.Contains(claims, []byte(want)) {
			t.Errorf("CLAIMS.md lacks %q:\n%s", want, claims)
		}
	}
}

// TestPlotsFromSummary writes the committed summary's plots for a look
// (TIVE_PLOTS=DIR keeps them).
func TestPlotsFromSummary(t *testing.T) {
	dir := os.Getenv("TIVE_PLOTS")
	if dir == "" {
		dir = t.TempDir()
	}
	s, err := ReadSummary(filepath.Join("testdata", "summary.json"))
	if err != nil {
		t.Fatal(err)
	}
	figs, err := Plots(s)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, f := range figs {
		names = append(names, f.Name)
		if f.Plot.Title.Text == "" || f.Plot.X.Label.Text == "" || f.Plot.Y.Label.Text == "" {
			t.Errorf("%s lacks a title or an axis label", f.Name)
		}
		if err := f.Save(dir); err != nil {
			t.Fatal(err)
		}
	}
	if got := strings.Join(names, " "); got != "ratio proportions" {
		t.Errorf("plots %q, want ratio and proportions", got)
	}
}
