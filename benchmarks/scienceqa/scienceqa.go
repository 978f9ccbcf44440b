// Package scienceqa scores ScienceQA (test split) as LLaVA's
// eval_science_qa.py does.
//
// A prediction is parsed to a letter by three rules: the whole text is one of
// A-E; or it starts with a letter of A-E followed by ". "; or the regex
// `The answer is ([A-Z]).` matches exactly once. The letter's index counts
// only if it is among the first len(choices) letters. Then
//
//	Accuracy     = #correct / #test problems * 100
//	IMG-Accuracy = #correct among predictions whose prompt contains "<image>"
//	               / #such predictions * 100
//
// A problem without a prediction is wrong and, its prompt being unknown, not
// in the IMG denominator. A prediction whose question id is not a problem of
// the split (a number included: the script's keys are strings) is ignored,
// as the script looks predictions up by the split's ids, and of repeated
// predictions for an id the last counts, as in the script's dict
// (Report.Ignored and Replaced count them). LLaVA reports IMG-Accuracy.
package scienceqa

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/tive-dev/tive/benchmarks/internal/input"
)

var options = []string{"A", "B", "C", "D", "E"}

var answerIs = regexp.MustCompile(`The answer is ([A-Z]).`)

// Failed is the parsed answer when no rule applies.
const Failed = "FAILED"

// ParseAnswer is eval_science_qa.py's letter extraction.
func ParseAnswer(text string) string {
	for _, o := range options {
		if text == o {
			return o
		}
	}
	r := []rune(text)
	if len(r) >= 3 && strings.ContainsRune("ABCDE", r[0]) && string(r[1:3]) == ". " {
		return string(r[0])
	}
	if m := answerIs.FindAllStringSubmatch(text, -1); len(m) == 1 {
		return m[0][1]
	}
	return Failed
}

// PredIndex is get_pred_idx: the letter's index if it is among the first
// nChoices options, else -1.
func PredIndex(letter string, nChoices int) int {
	for i, o := range options[:min(nChoices, len(options))] {
		if o == letter {
			return i
		}
	}
	return -1
}

// Problem is the part of a problems.json entry the scorer uses.
type Problem struct {
	Choices []string `json:"choices"`
	Answer  *int     `json:"answer"`
	Image   *string  `json:"image"`
}

// Report is the result of scoring ScienceQA.
type Report struct {
	Total, Correct       int
	IMGTotal, IMGCorrect int
	Missing              int            // problems without a prediction
	Results              map[string]int // pid -> parsed option index or -1, as _result.json
	// Predictions a later one for the same id replaced, and predictions
	// whose id is no problem of the split.
	input.Lenience
}

// Accuracy is Correct/Total x100.
func (r *Report) Accuracy() float64 { return float64(r.Correct) / float64(r.Total) * 100 }

// IMGAccuracy is IMGCorrect/IMGTotal x100.
func (r *Report) IMGAccuracy() float64 { return float64(r.IMGCorrect) / float64(r.IMGTotal) * 100 }

// Headline is IMG-Accuracy x100.
func (r *Report) Headline() float64 { return r.IMGAccuracy() }

// Warnings says what eval_science_qa.py silently skipped.
func (r *Report) Warnings() []string {
	return r.Lenience.Warnings("the split", "eval_science_qa.py")
}

// Metrics returns both accuracies (x100) and the counts.
func (r *Report) Metrics() map[string]float64 {
	return map[string]float64{
		"accuracy":     r.Accuracy(),
		"img_accuracy": r.IMGAccuracy(),
		"total":        float64(r.Total),
		"correct":      float64(r.Correct),
		"img_total":    float64(r.IMGTotal),
		"img_correct":  float64(r.IMGCorrect),
		"missing":      float64(r.Missing),
		"ignored":      float64(r.Ignored),
	}
}

// Score scores an answer file (model_vqa_science lines) against the folder
// holding problems.json and pid_splits.json, on the "test" split. questions
// (llava_test_CQM-A.json) is not read by the official script and is ignored.
// Answers for ids outside the split are ignored and counted; duplicate
// question ids are refused.
func Score(questions, answers, annotations string) (*Report, error) {
	return ScoreSplit(answers, annotations, "test")
}

// ScoreSplit is Score on another split of pid_splits.json.
func ScoreSplit(answers, dir, split string) (*Report, error) {
	if st, err := os.Stat(dir); err == nil && !st.IsDir() {
		dir = filepath.Dir(dir)
	}
	var splits map[string][]string
	if err := input.JSONFile(filepath.Join(dir, "pid_splits.json"), &splits); err != nil {
		return nil, err
	}
	pids, ok := splits[split]
	if !ok || len(pids) == 0 {
		return nil, input.Errorf(filepath.Join(dir, "pid_splits.json"), 0, input.ErrEmpty, "no %q split", split)
	}
	var problems map[string]Problem
	probFile := filepath.Join(dir, "problems.json")
	if err := input.JSONFile(probFile, &problems); err != nil {
		return nil, err
	}
	inSplit := map[string]bool{}
	for _, pid := range pids {
		p, ok := problems[pid]
		if !ok {
			return nil, input.Errorf(probFile, 0, input.ErrUnknown, "split %q problem %q is not in problems.json", split, pid)
		}
		if p.Answer == nil {
			return nil, input.Errorf(probFile, 0, input.ErrInvalid, "problem %q has no answer", pid)
		}
		inSplit[pid] = true
	}
	as, err := input.Answers(answers, true)
	if err != nil {
		return nil, err
	}
	// The script's {question_id: prediction} dict, looked up by the split's
	// string ids: the last prediction for an id counts, a number matches
	// none.
	byID, replaced, ignored := input.AsDict(as, func(id input.ID) bool { return !id.IsNum() && inSplit[id.Raw()] })
	r := &Report{Results: make(map[string]int, len(pids)), Lenience: input.Lenience{Replaced: replaced, Ignored: ignored}}
	for _, pid := range pids {
		if _, done := r.Results[pid]; done {
			continue // the official script builds a dict from the split
		}
		p := problems[pid]
		text, prompt := Failed, "Unknown"
		if a, ok := byID[input.StringID(pid)]; ok {
			text, prompt = a.Text, a.Prompt
		} else {
			r.Missing++
		}
		idx := PredIndex(ParseAnswer(text), len(p.Choices))
		r.Results[pid] = idx
		right := idx == *p.Answer
		r.Total++
		img := strings.Contains(prompt, "<image>")
		if img {
			r.IMGTotal++
		}
		if right {
			r.Correct++
			if img {
				r.IMGCorrect++
			}
		}
	}
	if r.IMGTotal == 0 {
		return nil, input.Errorf(answers, 0, input.ErrMissing, "no prediction has an <image> prompt, so IMG-Accuracy is undefined")
	}
	return r, nil
}
