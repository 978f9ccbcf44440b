package report

import (
	"bytes"
	"fmt"
	"io"
	"path/filepath"
	"strings"

	"github.com/tive-dev/tive/harness/atomic"
)

// Result is what one study's run shows of itself: its MainTable (every
// condition × suite, mean ± the 95% half-width over seeds, the best
// constant answer last) and its ScorePlot, written beside the run's
// results file.
type Result struct {
	Table *Table
	// Legend says what the cells are, in a line.
	Legend string
	// TableFiles and PlotFiles are the paths written: the table as .md, .csv and .tex, the
	// plot as .png and .svg (none without a plot).
	TableFiles, PlotFiles []string
}

// WriteResult writes st's table and plot as stem.md, stem.csv, stem.tex,
// stem.png and stem.svg (atomically) and returns them; nil when the study
// has no scores (a spec that stops at selection).
func WriteResult(st *Study, stem string) (*Result, error) {
	t := MainTable(st)
	if t == nil {
		return nil, nil
	}
	t.Name = filepath.Base(stem)
	res := &Result{Table: t, Legend: seedsText(seeds(st.Conditions()))}
	if len(st.Runs[0].Chance) > 0 {
		res.Legend += " The last row is the best constant answer of each suite."
	}
	var md, csv, tex bytes.Buffer
	if err := t.Markdown(&md); err != nil {
		return nil, err
	}
	if err := t.CSV(&csv); err != nil {
		return nil, err
	}
	if err := t.LaTeX(&tex); err != nil {
		return nil, err
	}
	for _, f := range []struct {
		ext string
		b   []byte
	}{{".md", md.Bytes()}, {".csv", csv.Bytes()}, {".tex", tex.Bytes()}} {
		if err := atomic.WriteFile(stem+f.ext, f.b, 0o644); err != nil {
			return nil, err
		}
		res.TableFiles = append(res.TableFiles, stem+f.ext)
	}
	f, err := ScorePlot(st)
	if err != nil || f == nil {
		return res, err
	}
	f.Name = filepath.Base(stem)
	if err := f.Save(filepath.Dir(stem)); err != nil {
		return nil, err
	}
	res.PlotFiles = []string{stem + ".png", stem + ".svg"}
	return res, nil
}

// Print writes the result for a terminal: the table, a line on what its
// cells are, then the paths of the table and plot files.
func (r *Result) Print(w io.Writer) error {
	var b bytes.Buffer
	if err := r.Table.rows(&b); err != nil {
		return err
	}
	fmt.Fprintf(&b, "%s\n", r.Legend)
	fmt.Fprintf(&b, "table: %s\n", strings.Join(r.TableFiles, ", "))
	if len(r.PlotFiles) > 0 {
		fmt.Fprintf(&b, "plot: %s\n", strings.Join(r.PlotFiles, ", "))
	}
	_, err := w.Write(b.Bytes())
	return err
}
