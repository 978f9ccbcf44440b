// Package pope scores POPE (COCO random, popular and adversarial splits) as
// LLaVA's eval_pope.py does, which is POPE's own evaluate.py.
//
// An answer is "no" iff, after keeping the text before the first '.',
// deleting ',' and splitting on the space character, one of the tokens is
// exactly "No", "no" or "not" (case-sensitive: "NO" is yes). Per category,
// with positive = yes:
//
//	Acc = (TP+TN)/N   P = TP/(TP+FP)   R = TP/(TP+FN)   F1 = 2PR/(P+R)
//	yes-ratio = #pred-yes/N
//
// The answers of a category are those whose question (in the question file)
// has that category, in answer-file order, paired by position with the
// category's label file coco_pope_<category>.json. The headline is the mean
// F1 over the categories x100. Where the official script divides by zero (no
// yes predictions, no positive labels) the quotient is taken as 0 and the
// category is flagged in Metrics with "<category>/zero_division" = 1.
package pope

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/tive-dev/tive/benchmarks/internal/input"
)

// Category holds one split's confusion counts and metrics.
type Category struct {
	Name           string
	N              int
	TP, FP, TN, FN int
	Accuracy       float64
	Precision      float64
	Recall         float64
	F1             float64
	YesRatio       float64
	ZeroDivision   bool // P, R or F1 had a zero denominator
}

// Report is the result of scoring POPE.
type Report struct {
	Categories []Category // sorted by name
	MeanF1     float64    // mean F1 over Categories, in [0, 1]
	// What eval_pope.py does silently, and Warnings reports: questions
	// listed again (the last listing counts), answers to a question already
	// answered (each is paired by position), and categories whose answer and
	// label counts differ (zip pairs them up to the shorter).
	Relisted, Repeated int
	Unpaired           []string
}

// Warnings says what eval_pope.py did silently.
func (r *Report) Warnings() []string {
	var w []string
	if r.Relisted > 0 {
		w = append(w, fmt.Sprintf("%d questions are listed again in the question file; the last listing gives the category, as eval_pope.py's dict", r.Relisted))
	}
	if r.Repeated > 0 {
		w = append(w, fmt.Sprintf("%d answers are to a question already answered; each is paired with a label by position, as eval_pope.py pairs them", r.Repeated))
	}
	return append(w, r.Unpaired...)
}

// Headline is the mean F1 x100, the number LLaVA reports.
func (r *Report) Headline() float64 { return 100 * r.MeanF1 }

// Metrics returns every per-category number, keyed "<category>/<metric>".
func (r *Report) Metrics() map[string]float64 {
	m := map[string]float64{"mean_f1": r.MeanF1}
	for _, c := range r.Categories {
		p := c.Name + "/"
		m[p+"n"] = float64(c.N)
		m[p+"tp"] = float64(c.TP)
		m[p+"fp"] = float64(c.FP)
		m[p+"tn"] = float64(c.TN)
		m[p+"fn"] = float64(c.FN)
		m[p+"accuracy"] = c.Accuracy
		m[p+"precision"] = c.Precision
		m[p+"recall"] = c.Recall
		m[p+"f1"] = c.F1
		m[p+"yes_ratio"] = c.YesRatio
		if c.ZeroDivision {
			m[p+"zero_division"] = 1
		}
	}
	return m
}

// IsYes parses a model answer as eval_pope.py does.
func IsYes(text string) bool {
	if i := strings.IndexByte(text, '.'); i >= 0 {
		text = text[:i]
	}
	text = strings.ReplaceAll(text, ",", "")
	for _, w := range strings.Split(text, " ") {
		if w == "No" || w == "not" || w == "no" {
			return false
		}
	}
	return true
}

// label is one line of a coco_pope_<category>.json file.
type label struct {
	Label *string `json:"label"`
}

// ReadLabels reads a POPE label file; any label other than "no" is yes.
func ReadLabels(path string) ([]bool, error) {
	var out []bool
	err := input.JSONL(path, func(n int, l *label) error {
		if l.Label == nil {
			return &input.SyntaxError{File: path, Line: n, Msg: `missing "label"`}
		}
		out = append(out, *l.Label != "no")
		return nil
	})
	return out, err
}

// labelFiles maps category to label file: annotations is a folder of
// coco_pope_<category>.json files, or one such file.
func labelFiles(annotations string) (map[string]string, error) {
	st, err := os.Stat(annotations)
	if err != nil {
		return nil, err
	}
	files := map[string]string{}
	add := func(path string) {
		base := filepath.Base(path)
		if strings.HasPrefix(base, "coco_pope_") && strings.HasSuffix(base, ".json") {
			files[strings.TrimSuffix(strings.TrimPrefix(base, "coco_pope_"), ".json")] = path
		}
	}
	if !st.IsDir() {
		add(annotations)
		if len(files) == 0 {
			return nil, fmt.Errorf("%s: want a coco_pope_<category>.json file or a folder of them", annotations)
		}
		return files, nil
	}
	entries, err := os.ReadDir(annotations)
	if err != nil {
		return nil, err
	}
	for _, e := range entries {
		if !e.IsDir() {
			add(filepath.Join(annotations, e.Name()))
		}
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("%s: no coco_pope_<category>.json label files", annotations)
	}
	return files, nil
}

// Score scores the answer file against the question file (which gives each
// question's category) and the label folder as eval_pope.py does. It
// refuses answers to questions the question file lacks and a category
// without answers, where the script crashes; where it silently misaligns
// (a question listed twice, an answer repeated, answer and label counts
// that differ) it gives the script's number and Report.Warnings says so.
func Score(questions, answers, annotations string) (*Report, error) {
	qs, err := input.Questions(questions)
	if err != nil {
		return nil, err
	}
	r := &Report{}
	category := make(map[input.ID]string, len(qs))
	for _, q := range qs {
		if _, dup := category[q.QuestionID]; dup {
			r.Relisted++
		}
		category[q.QuestionID] = q.Category
	}
	as, err := input.Answers(answers, false)
	if err != nil {
		return nil, err
	}
	_, r.Repeated = input.LastByID(as)
	byCat := map[string][]bool{}
	for _, a := range as {
		c, ok := category[a.QuestionID]
		if !ok {
			return nil, input.Errorf(answers, a.Line, input.ErrUnknown, "question id %v is not in %s", a.QuestionID, questions)
		}
		byCat[c] = append(byCat[c], IsYes(a.Text))
	}
	files, err := labelFiles(annotations)
	if err != nil {
		return nil, err
	}
	names := make([]string, 0, len(files))
	for c := range files {
		names = append(names, c)
	}
	sort.Strings(names)
	for _, c := range names {
		labels, err := ReadLabels(files[c])
		if err != nil {
			return nil, err
		}
		preds := byCat[c]
		switch {
		case len(preds) == 0:
			return nil, input.Errorf(answers, 0, input.ErrMissing, "category %q has no answers (eval_pope.py divides by zero)", c)
		case len(preds) != len(labels):
			r.Unpaired = append(r.Unpaired, fmt.Sprintf("category %q has %d answers for the %d labels of %s; they are paired by position up to %d, as eval_pope.py's zip pairs them",
				c, len(preds), len(labels), filepath.Base(files[c]), min(len(preds), len(labels))))
		}
		r.Categories = append(r.Categories, Evaluate(c, preds, labels))
	}
	sum := 0.0
	for _, c := range r.Categories {
		sum += c.F1
	}
	r.MeanF1 = sum / float64(len(r.Categories))
	return r, nil
}

// Evaluate computes one category's metrics from parsed predictions (at
// least one) and labels (true = yes), paired by position up to the shorter
// as eval_pope.py's zip; the yes-ratio is over every prediction.
func Evaluate(name string, preds, labels []bool) Category {
	c := Category{Name: name, N: len(preds)}
	yes := 0
	for _, p := range preds {
		if p {
			yes++
		}
	}
	for i, p := range preds[:min(len(preds), len(labels))] {
		switch l := labels[i]; {
		case p && l:
			c.TP++
		case p && !l:
			c.FP++
		case !p && !l:
			c.TN++
		default:
			c.FN++
		}
	}
	div := func(a, b float64) float64 {
		if b == 0 {
			c.ZeroDivision = true
			return 0
		}
		return a / b
	}
	c.YesRatio = float64(yes) / float64(len(preds))
	c.Precision = div(float64(c.TP), float64(c.TP+c.FP))
	c.Recall = div(float64(c.TP), float64(c.TP+c.FN))
	c.F1 = div(2*c.Precision*c.Recall, c.Precision+c.Recall)
	c.Accuracy = div(float64(c.TP+c.TN), float64(c.TP+c.TN+c.FP+c.FN))
	return c
}
