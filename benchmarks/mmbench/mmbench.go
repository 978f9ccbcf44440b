// Package mmbench scores MMBench and MMBench-CN (dev) with CircularEval, as
// VLMEvalKit's multiple_choice_eval (2024, exact matching) does on the sheet
// LLaVA's convert_mmbench_for_submission.py writes.
//
// Each prediction is parsed by can_infer: a choice letter that is the only
// choice letter among the answer's tokens (after replacing .()[],:;!*#{}
// with spaces), else 'Z' for a refusal, else the only option whose
// lower-cased text is a substring of the lower-cased answer, else
// unresolved (wrong under exact matching). The TSV holds the circular copies:
// row k*1e6+i is question i with rotated options. A group (rows with equal
// index mod 1e6) is a hit iff every row's parsed letter equals its answer:
//
//	accuracy = #hit groups / #groups * 100
//
// with the same mean per category and l2-category when the TSV has them.
package mmbench

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"strconv"
	"strings"

	"github.com/tive-dev/tive/benchmarks/internal/input"
)

// A Row is one TSV row.
type Row struct {
	Line     int
	Index    int64
	Question string
	Options  map[string]string // letter -> text, only options that are not NaN
	Answer   string
	Category string
	L2       string
	Split    string
	Fields   map[string]string // every column, raw
}

// naValues are the strings pandas 1.5 reads as NaN.
var naValues = map[string]bool{"": true, "#N/A": true, "#N/A N/A": true, "#NA": true, "-1.#IND": true, "-1.#QNAN": true,
	"-NaN": true, "-nan": true, "1.#IND": true, "1.#QNAN": true, "<NA>": true, "N/A": true, "NA": true, "NULL": true,
	"NaN": true, "n/a": true, "nan": true, "null": true}

// IsNA reports whether pandas reads s as NaN.
func IsNA(s string) bool { return naValues[s] }

// A Sheet is the parsed TSV.
type Sheet struct {
	Header []string
	Rows   []Row
}

// ReadTSV reads an MMBench TSV (tab-separated, CSV quoting). It needs the
// columns index, A, B and answer.
func ReadTSV(path string) (*Sheet, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return readTSV(f, path)
}

func readTSV(r io.Reader, path string) (*Sheet, error) {
	cr := csv.NewReader(r)
	cr.Comma = '\t'
	cr.LazyQuotes = true
	cr.FieldsPerRecord = -1 // short rows are NaN-filled, as pandas does
	header, err := cr.Read()
	if err == io.EOF {
		return nil, input.Errorf(path, 0, input.ErrEmpty, "no header line")
	}
	if err != nil {
		return nil, syntax(path, err)
	}
	col := map[string]int{}
	for i, h := range header {
		col[h] = i
	}
	for _, need := range []string{"index", "A", "B", "answer"} {
		if _, ok := col[need]; !ok {
			return nil, &input.SyntaxError{File: path, Line: 1, Msg: fmt.Sprintf("no %q column", need)}
		}
	}
	s := &Sheet{Header: header}
	seen := map[int64]int{}
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, syntax(path, err)
		}
		line, _ := cr.FieldPos(0)
		if len(rec) > len(header) {
			return nil, &input.SyntaxError{File: path, Line: line, Msg: fmt.Sprintf("%d fields, the header has %d", len(rec), len(header))}
		}
		get := func(name string) string {
			if i, ok := col[name]; ok && i < len(rec) {
				return rec[i]
			}
			return ""
		}
		idx, err := strconv.ParseInt(strings.TrimSpace(get("index")), 10, 64)
		if err != nil || idx < 0 {
			return nil, &input.SyntaxError{File: path, Line: line, Msg: fmt.Sprintf("index %q is not a non-negative integer", get("index"))}
		}
		if prev, dup := seen[idx]; dup {
			return nil, input.Errorf(path, line, input.ErrDuplicate, "index %d already on line %d", idx, prev)
		}
		seen[idx] = line
		row := Row{Line: line, Index: idx, Question: get("question"), Answer: get("answer"),
			Category: get("category"), L2: get("l2-category"), Split: get("split"),
			Options: map[string]string{}, Fields: map[string]string{}}
		for i, h := range header {
			if i < len(rec) {
				row.Fields[h] = rec[i]
			}
		}
		for c := 'A'; c <= 'Z'; c++ {
			if v, ok := row.Fields[string(c)]; ok && !IsNA(v) {
				row.Options[string(c)] = v
			}
		}
		s.Rows = append(s.Rows, row)
	}
	if len(s.Rows) == 0 {
		return nil, input.Errorf(path, 0, input.ErrEmpty, "no rows")
	}
	return s, nil
}

func syntax(path string, err error) error {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		return &input.SyntaxError{File: path, Line: pe.Line, Msg: pe.Err.Error()}
	}
	return err
}

var rejections = []string{
	"Sorry, I can't help with images of people yet.",
	"I can't process this file.",
	"I'm sorry, but without the image provided",
	"Cannot determine the answer",
}

// CanInferOption is VLMEvalKit's can_infer_option; "" means it failed.
func CanInferOption(answer string, choices map[string]string) string {
	if strings.Contains(answer, "Failed to obtain answer via API") {
		return ""
	}
	for _, r := range rejections {
		if strings.Contains(answer, r) {
			return "Z"
		}
	}
	mod := strings.Map(func(r rune) rune {
		if strings.ContainsRune(".()[],:;!*#{}", r) {
			return ' '
		}
		return r
	}, answer)
	tokens := map[string]bool{}
	for _, t := range strings.FieldsFunc(mod, isSpace) {
		tokens[t] = true
	}
	found, count := "", 0
	for c := range choices {
		if tokens[c] {
			count++
			found = c
		}
	}
	switch {
	case count == 1:
		return found
	case count == 0 && tokens["Z"]:
		return "Z"
	}
	return ""
}

// CanInferText is VLMEvalKit's can_infer_text; "" means it failed.
func CanInferText(answer string, choices map[string]string) string {
	answer = strings.ToLower(answer)
	found, count := "", 0
	for c, text := range choices {
		if strings.Contains(answer, strings.ToLower(text)) {
			count++
			found = c
		}
	}
	if count == 1 {
		return found
	}
	return ""
}

// CanInfer is VLMEvalKit's can_infer (the March 2024 version LLaVA-1.5-era
// numbers were computed with): option letter first, then option text.
func CanInfer(answer string, choices map[string]string) string {
	if c := CanInferOption(answer, choices); c != "" {
		return c
	}
	return CanInferText(answer, choices)
}

func isSpace(r rune) bool {
	return r == ' ' || (r >= '\t' && r <= '\r') || (r >= 0x1c && r <= 0x1f) || r == 0x85 || r == 0xa0 ||
		r == 0x1680 || (r >= 0x2000 && r <= 0x200a) || r == 0x2028 || r == 0x2029 || r == 0x202f || r == 0x205f || r == 0x3000
}

// Prediction is the prediction cell as VLMEvalKit reads it back from the
// sheet: a missing answer, an empty text or a text pandas reads as NaN
// becomes "nan".
func Prediction(text string, ok bool) string {
	if !ok || IsNA(text) {
		return "nan"
	}
	return text
}

// Report is the result of scoring MMBench.
type Report struct {
	Groups         int
	Hits           int
	Unresolved     int // groups with an unparsed row and no wrong parsed row
	Vanilla        int // groups whose first row alone is right
	Missing        int // rows without an answer (scored as "nan")
	input.Lenience     // answers replaced by a later one for the row, answers to no row
	Circular       float64
	Category       map[string]float64 // CircularEval accuracy x100 per category
	L2             map[string]float64 // per l2-category
}

// Headline is the CircularEval accuracy x100.
func (r *Report) Headline() float64 { return r.Circular }

// Warnings says what convert_mmbench_for_submission.py does silently.
func (r *Report) Warnings() []string {
	return r.Lenience.Warnings("the sheet", "convert_mmbench_for_submission.py")
}

// Metrics returns the accuracies (x100), counts and breakdowns.
func (r *Report) Metrics() map[string]float64 {
	m := map[string]float64{
		"circular_accuracy": r.Circular,
		"vanilla_accuracy":  100 * float64(r.Vanilla) / float64(r.Groups),
		"groups":            float64(r.Groups),
		"hits":              float64(r.Hits),
		"unresolved_groups": float64(r.Unresolved),
		"missing_answers":   float64(r.Missing),
	}
	for k, v := range r.Category {
		m["category/"+k] = v
	}
	for k, v := range r.L2 {
		m["l2-category/"+k] = v
	}
	return m
}

// Score scores an answer file against the dev TSV. questions and
// annotations are both the TSV (annotations may be empty to reuse
// questions). Unknown and duplicate question ids are refused; a row without
// an answer is scored as the sheet's empty cell, "nan".
func Score(questions, answers, annotations string) (*Report, error) {
	if annotations == "" {
		annotations = questions
	}
	if questions == "" {
		questions = annotations
	}
	sheet, err := ReadTSV(annotations)
	if err != nil {
		return nil, err
	}
	if questions != annotations {
		if _, err := ReadTSV(questions); err != nil {
			return nil, err
		}
	}
	as, err := input.Answers(answers, false)
	if err != nil {
		return nil, err
	}
	rows := map[int64]bool{}
	for _, r := range sheet.Rows {
		rows[r.Index] = true
	}
	// As convert_mmbench_for_submission.py's cur_df.loc[index == id]: a
	// later answer overwrites, an id that is no index matches no row.
	byID, replaced, ignored := input.AsDict(as, func(id input.ID) bool {
		n, err := strconv.ParseInt(id.Raw(), 10, 64)
		return id.IsNum() && err == nil && rows[n]
	})
	preds := make(map[int64]string, len(sheet.Rows))
	missing := 0
	for _, r := range sheet.Rows {
		a, ok := byID[input.NumID(r.Index)]
		text := ""
		if ok {
			text = a.Text
		} else {
			missing++
		}
		preds[r.Index] = Prediction(text, ok)
	}
	rep := Evaluate(sheet, preds)
	if rep.Groups == 0 {
		return nil, input.Errorf(annotations, 0, input.ErrEmpty, "no main rows (index < 1000000)")
	}
	rep.Missing, rep.Lenience = missing, input.Lenience{Replaced: replaced, Ignored: ignored}
	return rep, nil
}

// Evaluate runs CircularEval on the sheet with predictions by row index.
func Evaluate(sheet *Sheet, preds map[int64]string) *Report {
	groups := map[int64][]*Row{}
	for i := range sheet.Rows {
		r := &sheet.Rows[i]
		groups[r.Index%1_000_000] = append(groups[r.Index%1_000_000], r)
	}
	rep := &Report{Category: map[string]float64{}, L2: map[string]float64{}}
	type tally struct{ hit, n int }
	cat, l2 := map[string]*tally{}, map[string]*tally{}
	add := func(m map[string]*tally, k string, hit bool) {
		if k == "" {
			return
		}
		t := m[k]
		if t == nil {
			t = &tally{}
			m[k] = t
		}
		t.n++
		if hit {
			t.hit++
		}
	}
	for _, main := range sheet.Rows {
		if main.Index >= 1_000_000 {
			continue
		}
		g := groups[main.Index]
		sort.Slice(g, func(i, j int) bool { return g[i].Index < g[j].Index })
		hit, unresolved := true, false
		for i, r := range g {
			p := CanInfer(preds[r.Index], r.Options)
			if i == 0 && p == r.Answer {
				rep.Vanilla++
			}
			if p == "" {
				unresolved = true
				hit = false
				continue
			}
			if p != r.Answer {
				hit, unresolved = false, false
				break
			}
		}
		rep.Groups++
		if hit {
			rep.Hits++
		}
		if unresolved {
			rep.Unresolved++
		}
		add(cat, main.Category, hit)
		add(l2, main.L2, hit)
	}
	if rep.Groups > 0 {
		rep.Circular = float64(rep.Hits) / float64(rep.Groups) * 100
	}
	for k, t := range cat {
		rep.Category[k] = float64(t.hit) / float64(t.n) * 100
	}
	for k, t := range l2 {
		rep.L2[k] = float64(t.hit) / float64(t.n) * 100
	}
	return rep
}

// dropped are the columns convert_mmbench_for_submission.py drops.
var dropped = map[string]bool{"hint": true, "category": true, "source": true, "image": true, "comment": true, "l2-category": true}

// WriteSubmission writes the submission sheet convert_mmbench_for_submission.py
// builds (the TSV's columns less hint, category, source, image, comment and
// l2-category, with "prediction" inserted as the 7th column: index,
// question, A, B, C, D, prediction, answer, split) as tab-separated values;
// WriteSubmissionXLSX writes the same sheet as the .xlsx LLaVA uploads. A
// row without an answer has an empty prediction.
func WriteSubmission(path, tsv, answers string) error {
	cols, rows, err := submission(tsv, answers)
	if err != nil {
		return err
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w := csv.NewWriter(f)
	w.Comma = '\t'
	w.Write(cols)
	for _, rec := range rows {
		w.Write(rec)
	}
	w.Flush()
	if err := w.Error(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// submission builds the submission sheet's columns and rows; cells pandas
// reads as NaN are empty.
func submission(tsv, answers string) ([]string, [][]string, error) {
	sheet, err := ReadTSV(tsv)
	if err != nil {
		return nil, nil, err
	}
	as, err := input.Answers(answers, false)
	if err != nil {
		return nil, nil, err
	}
	byID := map[input.ID]string{}
	for _, a := range as {
		byID[a.QuestionID] = a.Text // later lines win, as .loc assignment does
	}
	var cols []string
	for _, h := range sheet.Header {
		if !dropped[h] {
			cols = append(cols, h)
		}
	}
	at := min(6, len(cols))
	cols = append(cols[:at], append([]string{"prediction"}, cols[at:]...)...)
	rows := make([][]string, 0, len(sheet.Rows))
	for _, r := range sheet.Rows {
		rec := make([]string, len(cols))
		for i, c := range cols {
			switch {
			case c == "prediction":
				rec[i] = byID[input.NumID(r.Index)]
			case c == "index":
				rec[i] = strconv.FormatInt(r.Index, 10)
			case !IsNA(r.Fields[c]):
				rec[i] = r.Fields[c]
			}
		}
		rows = append(rows, rec)
	}
	return cols, rows, nil
}
