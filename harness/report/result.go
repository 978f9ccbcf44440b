package report

import (
	"bytes"
	"fmt"
	"io"
	"path/filepath"
	"strings"
)

// Result is what one study's run shows of itself: its MainTable (every
// condition × suite, mean ± the 95% half-width over seeds, the best
// constant answer last) and its ScorePlot, written beside the run's
// results file.
type Result struct {
	Table *Table
	// Legend says what the cells are, in a line.
	Legend string
	// TableFiles and PlotFiles are the paths written: the table as .md,
	// .csv and .tex, the plot as .png and .svg (none without a plot).
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
	var err error
	if res.TableFiles, _, err = saveTable(t, filepath.Dir(stem)); err != nil {
		return nil, err
	}
	f, err := ScorePlot(st)
	if err != nil {
		return nil, err
	}
	if f == nil {
		return res, nil
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
