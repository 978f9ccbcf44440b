// Package gqa scores GQA (testdev-balanced) as LLaVA's flow does:
// convert_gqa_for_eval.py turns each answer into text.rstrip('.').lower(),
// and the GQA eval.py compares it with the gold answer by string equality
// (no article, punctuation or number handling). Over balanced questions:
//
//	accuracy = #(pred == answer) / #questions * 100
//
// Binary covers structural types other than "query", Open covers "query";
// per structural and semantic type accuracies are reported too.
package gqa

import (
	"sort"
	"strings"

	"github.com/tive-dev/tive/benchmarks/internal/input"
)

// Question is the part of a testdev_balanced_questions.json entry the
// scorer uses.
type Question struct {
	Answer     string `json:"answer"`
	IsBalanced bool   `json:"isBalanced"`
	Types      struct {
		Structural string `json:"structural"`
		Semantic   string `json:"semantic"`
	} `json:"types"`
}

// Convert is convert_gqa_for_eval.py's prediction: trailing periods
// stripped, lower-cased.
func Convert(text string) string { return strings.ToLower(strings.TrimRight(text, ".")) }

// Report is the result of scoring GQA.
type Report struct {
	N, Correct int
	input.Lenience
	counts map[string][2]int // metric -> (correct, total)
}

// Warnings says what eval.py silently replaced or skipped.
func (r *Report) Warnings() []string { return r.Lenience.Warnings("the questions file", "eval.py") }

// Accuracy is the balanced accuracy x100.
func (r *Report) Accuracy() float64 { return float64(r.Correct) / float64(r.N) * 100 }

// Headline is Accuracy.
func (r *Report) Headline() float64 { return r.Accuracy() }

// Metrics returns accuracy, binary, open and per-type accuracies (x100).
func (r *Report) Metrics() map[string]float64 {
	m := map[string]float64{"accuracy": r.Accuracy(), "questions": float64(r.N), "replaced": float64(r.Replaced), "ignored": float64(r.Ignored)}
	for k, c := range r.counts {
		m[k] = float64(c[0]) / float64(c[1]) * 100
	}
	return m
}

// Score scores LLaVA's answer file against testdev_balanced_questions.json.
// Every balanced question needs an answer (eval.py stops at a missing one);
// as eval.py's dict of predictions, the last answer for an id counts and
// answers for ids that are no question are ignored (Report.Replaced and
// Ignored count them; Warnings says so). questions (LLaVA's jsonl) is not
// needed and is ignored.
func Score(questions, answers, annotations string) (*Report, error) {
	var qs map[string]Question
	if err := input.JSONFile(annotations, &qs); err != nil {
		return nil, err
	}
	as, err := input.Answers(answers, false)
	if err != nil {
		return nil, err
	}
	// eval.py's {questionId: prediction} dict, looked up by the questions'
	// string ids (a number never matches one).
	preds, replaced, ignored := input.AsDict(as, func(id input.ID) bool {
		_, ok := qs[id.Raw()]
		return ok && !id.IsNum()
	})
	ids := make([]string, 0, len(qs))
	for id := range qs {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	r := &Report{counts: map[string][2]int{}, Lenience: input.Lenience{Replaced: replaced, Ignored: ignored}}
	add := func(k string, ok bool) {
		c := r.counts[k]
		c[1]++
		if ok {
			c[0]++
		}
		r.counts[k] = c
	}
	for _, id := range ids {
		q := qs[id]
		if !q.IsBalanced {
			continue
		}
		a, ok := preds[input.StringID(id)]
		if !ok {
			return nil, input.Errorf(answers, 0, input.ErrMissing, "no prediction for question %s; the prediction file must be complete", id)
		}
		right := Convert(a.Text) == q.Answer
		r.N++
		if right {
			r.Correct++
		}
		if q.Types.Structural == "query" {
			add("open", right)
		} else {
			add("binary", right)
		}
		add("structural/"+q.Types.Structural, right)
		add("semantic/"+q.Types.Semantic, right)
	}
	if r.N == 0 {
		return nil, input.Errorf(annotations, 0, input.ErrEmpty, "no balanced questions")
	}
	return r, nil
}
