// Package mmvet aggregates MM-Vet GPT-4 grade files as the official
// mm-vet_evaluator.py does (no GPT call: the grades must be complete).
//
// With s_q,i the judge's score in [0, 1] for item q in run i (N runs):
//
//	total_i      = sum_q s_q,i / #items * 100
//	total        = round(mean_i total_i, 1)
//	capability c = round(mean_i (sum_{q has c} s_q,i / #{q has c} * 100), 1)
//	integration  = the same over items whose capability set is exactly S
//
// rounded as numpy does. The headline is total.
package mmvet

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/tive-dev/tive/benchmarks/internal/input"
	"github.com/tive-dev/tive/benchmarks/internal/pyfmt"
)

// Item is an mm-vet.json entry.
type Item struct {
	Capability []string `json:"capability"`
	Question   string   `json:"question"`
	Answer     string   `json:"answer"`
}

// Grade is a grade-file entry: one judge score per run.
type Grade struct {
	Score []float64 `json:"score"`
}

// Report is the evaluator's output.
type Report struct {
	NumRun      int
	Total       float64   // rounded to 1 decimal
	Std         float64   // rounded to 1 decimal
	Runs        []float64 // per-run totals, rounded to 1 decimal
	Capability  map[string]float64
	Integration map[string]float64 // keys: sorted capability names joined by "_"
	GradeFile   string
}

// Headline is the total score.
func (r *Report) Headline() float64 { return r.Total }

// Metrics returns total, std, each run, each capability and integration.
func (r *Report) Metrics() map[string]float64 {
	m := map[string]float64{"total": r.Total, "std": r.Std, "num_run": float64(r.NumRun)}
	for i, v := range r.Runs {
		m[fmt.Sprintf("run%d", i+1)] = v
	}
	for k, v := range r.Capability {
		m["capability/"+k] = v
	}
	for k, v := range r.Integration {
		m["integration/"+k] = v
	}
	return m
}

// orderedObject decodes a JSON object keeping its key order.
func orderedObject(path string) ([]string, map[string]json.RawMessage, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, err
	}
	var m map[string]json.RawMessage
	if err := input.JSONFile(path, &m); err != nil {
		return nil, nil, err
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	var keys []string
	if _, err := dec.Token(); err != nil { // {
		return nil, nil, &input.SyntaxError{File: path, Msg: err.Error()}
	}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, nil, &input.SyntaxError{File: path, Msg: err.Error()}
		}
		keys = append(keys, tok.(string))
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			return nil, nil, &input.SyntaxError{File: path, Msg: err.Error()}
		}
	}
	if len(keys) == 0 {
		return nil, nil, input.Errorf(path, 0, input.ErrEmpty, "empty JSON object")
	}
	return keys, m, nil
}

var gradeName = regexp.MustCompile(`^(.*)_(.+)-grade-(\d+)runs\.json$`)

// GradeFile finds the grade file for an answer file: annotations is the
// grade file itself, or a folder (or its results/ subfolder) holding
// <model>_<judge>-grade-<N>runs.json; with several, the one with the most
// runs. The model is the answers file's stem when the folder has grades
// under it, else the one model the folder has grades of (several are
// refused). It returns the file and N.
func GradeFile(answers, annotations string) (string, int, error) {
	st, err := os.Stat(annotations)
	if err != nil {
		return "", 0, err
	}
	if !st.IsDir() {
		m := gradeName.FindStringSubmatch(filepath.Base(annotations))
		if m == nil {
			return "", 0, fmt.Errorf("%s: want a <model>_<judge>-grade-<N>runs.json file or a folder holding one", annotations)
		}
		n, _ := strconv.Atoi(m[3])
		return annotations, n, nil
	}
	stem := strings.TrimSuffix(strings.TrimSuffix(filepath.Base(answers), ".jsonl"), ".json")
	type grade struct {
		file string
		n    int
	}
	best := map[string]grade{} // model -> its grade file with the most runs
	for _, dir := range []string{annotations, filepath.Join(annotations, "results")} {
		files, _ := filepath.Glob(filepath.Join(dir, "*-grade-*runs.json"))
		for _, f := range files {
			m := gradeName.FindStringSubmatch(filepath.Base(f))
			if m == nil {
				continue
			}
			n, _ := strconv.Atoi(m[3])
			if n > best[m[1]].n {
				best[m[1]] = grade{f, n}
			}
		}
	}
	g, ok := best[stem]
	if !ok || answers == "" {
		if len(best) > 1 {
			return "", 0, fmt.Errorf("%s: grade files of %d models, none named after the answers %s: give the grade file itself", annotations, len(best), stem)
		}
		for _, one := range best {
			g = one
		}
	}
	if g.file == "" {
		return "", 0, input.Errorf(annotations, 0, input.ErrMissing, "no GPT-4 grade file %s_<judge>-grade-<N>runs.json: judge outputs missing", stem)
	}
	return g.file, g.n, nil
}

// metaFile finds mm-vet.json in annotations, or beside/above a grade file.
func metaFile(annotations string) (string, error) {
	dir := annotations
	if st, err := os.Stat(annotations); err == nil && !st.IsDir() {
		dir = filepath.Dir(annotations)
	}
	for _, d := range []string{dir, filepath.Dir(dir)} {
		p := filepath.Join(d, "mm-vet.json")
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
	}
	return "", fmt.Errorf("%s: no mm-vet.json here or in the parent folder", annotations)
}

// Score aggregates the grade file for answers. questions is ignored (the
// evaluator does not read it); answers, when given, must only hold ids of
// mm-vet.json (question_id q is item "v1_q").
func Score(questions, answers, annotations string) (*Report, error) {
	grades, numRun, err := GradeFile(answers, annotations)
	if err != nil {
		return nil, err
	}
	meta, err := metaFile(annotations)
	if err != nil {
		return nil, err
	}
	keys, raw, err := orderedObject(meta)
	if err != nil {
		return nil, err
	}
	data := make(map[string]Item, len(keys))
	for _, k := range keys {
		var it Item
		if err := json.Unmarshal(raw[k], &it); err != nil {
			return nil, &input.SyntaxError{File: meta, Msg: fmt.Sprintf("item %q: %v", k, err)}
		}
		data[k] = it
	}
	if answers != "" {
		as, err := input.Answers(answers, false)
		if err != nil {
			return nil, err
		}
		if _, err := input.UniqueByID(answers, as); err != nil {
			return nil, err
		}
		for _, a := range as {
			if _, ok := data["v1_"+a.QuestionID.Raw()]; !ok {
				return nil, input.Errorf(answers, a.Line, input.ErrUnknown, "question id %v (item v1_%s) is not in %s", a.QuestionID, a.QuestionID.Raw(), meta)
			}
		}
	}
	gkeys, graw, err := orderedObject(grades)
	if err != nil {
		return nil, err
	}
	g := make([]Grade, len(gkeys))
	for i, k := range gkeys {
		if err := json.Unmarshal(graw[k], &g[i]); err != nil {
			return nil, &input.SyntaxError{File: grades, Msg: fmt.Sprintf("grade %q: %v", k, err)}
		}
		if _, ok := data[k]; !ok {
			return nil, input.Errorf(grades, 0, input.ErrUnknown, "grade for %q, which is not in %s", k, meta)
		}
		if len(g[i].Score) < numRun {
			return nil, input.Errorf(grades, 0, input.ErrMissing, "%q has %d of %d judge scores: judge outputs missing", k, len(g[i].Score), numRun)
		}
	}
	if len(gkeys) < len(data) {
		graded := map[string]bool{}
		for _, k := range gkeys {
			graded[k] = true
		}
		for _, k := range keys {
			if !graded[k] {
				return nil, input.Errorf(grades, 0, input.ErrMissing, "no grade for %q: judge outputs missing", k)
			}
		}
	}
	r := Evaluate(keys, data, gkeys, g, numRun)
	r.GradeFile = grades
	return r, nil
}

// Evaluate is the evaluator's aggregation over complete grades (gkeys[i]
// has g[i]), in the files' key order.
func Evaluate(keys []string, data map[string]Item, gkeys []string, g []Grade, numRun int) *Report {
	counter := map[string]int{}
	setCount := map[string]int{}
	setOf := func(caps []string) (string, []string) {
		u := map[string]bool{}
		for _, c := range caps {
			u[c] = true
		}
		list := make([]string, 0, len(u))
		for c := range u {
			list = append(list, c)
		}
		sort.Strings(list)
		return strings.Join(list, "_"), list
	}
	for _, k := range keys {
		name, caps := setOf(data[k].Capability)
		for _, c := range caps {
			counter[c]++
		}
		setCount[name]++
	}
	capSum := map[string][]float64{}
	setSum := map[string][]float64{}
	total := make([]float64, numRun)
	for c := range counter {
		capSum[c] = make([]float64, numRun)
	}
	for s := range setCount {
		setSum[s] = make([]float64, numRun)
	}
	for j, k := range gkeys {
		name, caps := setOf(data[k].Capability)
		for i := range numRun {
			score := g[j].Score[i]
			for _, c := range caps {
				capSum[c][i] += score
			}
			total[i] += score
			setSum[name][i] += score
		}
	}
	n := float64(len(keys))
	perRun := make([]float64, numRun)
	for i := range total {
		perRun[i] = total[i] / n * 100
	}
	r := &Report{NumRun: numRun, Capability: map[string]float64{}, Integration: map[string]float64{}}
	mean := func(v []float64) float64 {
		s := 0.0
		for _, x := range v {
			s += x
		}
		return s / float64(len(v))
	}
	m := mean(perRun)
	ss := 0.0
	for _, x := range perRun {
		ss += (x - m) * (x - m)
	}
	r.Std = pyfmt.NPRound(math.Sqrt(ss/float64(len(perRun))), 1)
	r.Total = pyfmt.NPRound(m, 1)
	for _, x := range perRun {
		r.Runs = append(r.Runs, pyfmt.NPRound(x, 1))
	}
	scaled := func(sums []float64, count int) []float64 {
		out := make([]float64, len(sums))
		for i, s := range sums {
			out[i] = s / float64(count) * 100
		}
		return out
	}
	for c, sums := range capSum {
		r.Capability[c] = pyfmt.NPRound(mean(scaled(sums, counter[c])), 1)
	}
	for s, sums := range setSum {
		r.Integration[s] = pyfmt.NPRound(mean(scaled(sums, setCount[s])), 1)
	}
	return r
}
