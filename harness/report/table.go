package report

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"

	"github.com/olekukonko/tablewriter"
	"github.com/olekukonko/tablewriter/renderer"
	"github.com/olekukonko/tablewriter/tw"
)

// Table is one result table: a caption, a header and rows of cells. It
// renders as Markdown (tablewriter), CSV and LaTeX.
type Table struct {
	Name    string // file stem, e.g. "main"
	Caption string
	Header  []string
	Rows    [][]Cell
}

// Cell is a text cell, or a number with its interval over seeds and a mark:
// +1 / -1 when its interval lies wholly above / below the reference row's.
type Cell struct {
	Text string
	Num  bool
	IV   Interval
	Prec int // decimals
	Mark int
}

// Text returns a text cell.
func Text(s string) Cell { return Cell{Text: s} }

// Num returns a numeric cell with prec decimals.
func Num(iv Interval, prec int) Cell { return Cell{Num: true, IV: iv, Prec: prec} }

// Value returns a numeric cell without an interval.
func Value(v float64, prec int) Cell {
	return Cell{Num: true, IV: Interval{Mean: v, Lo: math.NaN(), Hi: math.NaN(), N: 1}, Prec: prec}
}

// format renders the cell for Markdown ("12.3 ± 0.4 ▲") or LaTeX.
func (c Cell) format(latex bool) string {
	if !c.Num {
		if latex {
			return texEscape(c.Text)
		}
		return c.Text
	}
	if math.IsNaN(c.IV.Mean) {
		return "–"
	}
	pm, up, down := " ± ", " ▲", " ▼"
	if latex {
		pm, up, down = " $\\pm$ ", " $\\uparrow$", " $\\downarrow$"
	}
	s := strconv.FormatFloat(c.IV.Mean, 'f', c.Prec, 64)
	if c.IV.HasCI() {
		s += pm + strconv.FormatFloat(c.IV.Half(), 'f', c.Prec, 64)
	}
	switch c.Mark {
	case 1:
		s += up
	case -1:
		s += down
	}
	return s
}

// Markdown writes the caption as a paragraph and the table in GitHub
// Markdown.
func (t *Table) Markdown(w io.Writer) error {
	if _, err := fmt.Fprintf(w, "%s\n\n", t.Caption); err != nil {
		return err
	}
	return t.rows(w)
}

// rows writes the table without its caption, in GitHub Markdown.
func (t *Table) rows(w io.Writer) error {
	tab := tablewriter.NewTable(w,
		tablewriter.WithRenderer(renderer.NewMarkdown()),
		tablewriter.WithHeaderAutoFormat(tw.Off),
		tablewriter.WithRowAutoWrap(tw.WrapNone),
		tablewriter.WithHeaderAutoWrap(tw.WrapNone),
		tablewriter.WithHeaderAlignment(tw.AlignLeft),
	)
	tab.Header(toAny(t.Header)...)
	for _, r := range t.Rows {
		row := make([]any, len(r))
		for i, c := range r {
			row[i] = c.format(false)
		}
		if err := tab.Append(row...); err != nil {
			return err
		}
	}
	return tab.Render()
}

func toAny(ss []string) []any {
	out := make([]any, len(ss))
	for i, s := range ss {
		out[i] = s
	}
	return out
}

// CSV writes one column per text column and, per numeric column H, the
// columns H, H_lo, H_hi (the 95% interval; empty without one) and H_diff
// (+1, -1 or 0 against the reference row).
func (t *Table) CSV(w io.Writer) error {
	num := make([]bool, len(t.Header))
	for _, r := range t.Rows {
		for i, c := range r {
			num[i] = num[i] || c.Num
		}
	}
	cw := csv.NewWriter(w)
	var head []string
	for i, h := range t.Header {
		head = append(head, h)
		if num[i] {
			head = append(head, h+"_lo", h+"_hi", h+"_diff")
		}
	}
	cw.Write(head)
	f := func(v float64) string {
		if math.IsNaN(v) {
			return ""
		}
		return strconv.FormatFloat(v, 'g', 10, 64)
	}
	for _, r := range t.Rows {
		var rec []string
		for i, c := range r {
			if !num[i] {
				rec = append(rec, c.Text)
				continue
			}
			if !c.Num {
				rec = append(rec, c.Text, "", "", "")
				continue
			}
			rec = append(rec, f(c.IV.Mean), f(c.IV.Lo), f(c.IV.Hi), strconv.Itoa(c.Mark))
		}
		cw.Write(rec)
	}
	cw.Flush()
	return cw.Error()
}

// LaTeX writes a booktabs table environment with the caption and a label
// tab:<name>.
func (t *Table) LaTeX(w io.Writer) error {
	var b bytes.Buffer
	b.WriteString("\\begin{table}[t]\n\\centering\n\\small\n")
	fmt.Fprintf(&b, "\\caption{%s}\n\\label{tab:%s}\n", texEscape(t.Caption), t.Name)
	fmt.Fprintf(&b, "\\begin{tabular}{l%s}\n\\toprule\n", strings.Repeat("r", len(t.Header)-1))
	head := make([]string, len(t.Header))
	for i, h := range t.Header {
		head[i] = texEscape(h)
	}
	b.WriteString(strings.Join(head, " & ") + " \\\\\n\\midrule\n")
	for _, r := range t.Rows {
		cells := make([]string, len(r))
		for i, c := range r {
			cells[i] = c.format(true)
		}
		b.WriteString(strings.Join(cells, " & ") + " \\\\\n")
	}
	b.WriteString("\\bottomrule\n\\end{tabular}\n\\end{table}\n")
	_, err := w.Write(b.Bytes())
	return err
}

// texEscape escapes LaTeX's special characters and the report's symbols.
func texEscape(s string) string {
	r := strings.NewReplacer(`\`, `\textbackslash{}`, "&", `\&`, "%", `\%`, "$", `\$`, "#", `\#`, "_", `\_`,
		"{", `\{`, "}", `\}`, "~", `\textasciitilde{}`, "^", `\textasciicircum{}`,
		"±", `$\pm$`, "≥", `$\geq$`, "▲", `$\uparrow$`, "▼", `$\downarrow$`, "Δ", `$\Delta$`, "–", "--", "·", `$\cdot$`)
	return r.Replace(s)
}
