// Package llavabench aggregates GPT-4 review files of LLaVA-Bench
// (in-the-wild) as LLaVA's summarize_gpt_review.py does.
//
// Each review line carries a score pair (GPT-4 reference answer, model
// answer), taken from its "tuple" or parsed from the first line of its
// content (a pair that does not parse is [-1, -1] and is still averaged).
// Per review file and per category (and "all"):
//
//	m = mean of the pairs, each component rounded to 3 decimals
//	relative = round(m[1]/m[0]*100, 1)
//
// The reported LLaVA-Bench number is the mean of the "all" relative scores
// over the review runs (1-3 files).
package llavabench

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/tive-dev/tive/benchmarks/internal/input"
	"github.com/tive-dev/tive/benchmarks/internal/pyfmt"
)

// ParseScore is eval_gpt_review_bench.py's parse_score: the first line of
// the review, commas turned into spaces, split on single spaces; exactly two
// fields that parse as floats, else [-1, -1].
func ParseScore(review string) [2]float64 {
	first := strings.SplitN(review, "\n", 2)[0]
	sp := strings.Split(strings.ReplaceAll(first, ",", " "), " ")
	if len(sp) != 2 {
		return [2]float64{-1, -1}
	}
	a, err1 := pyFloat(sp[0])
	b, err2 := pyFloat(sp[1])
	if err1 != nil || err2 != nil {
		return [2]float64{-1, -1}
	}
	return [2]float64{a, b}
}

// pyFloat approximates Python's float(): surrounding whitespace allowed.
func pyFloat(s string) (float64, error) {
	return strconv.ParseFloat(strings.TrimSpace(s), 64)
}

// review is one line of a review file.
type review struct {
	QuestionID *input.ID `json:"question_id"`
	Category   *string   `json:"category"`
	Content    string    `json:"content"`
	Tuple      []float64 `json:"tuple"`
	Score      []float64 `json:"score"`
	Answer2ID  string    `json:"answer2_id"`
}

// Summary is one category's line of summarize_gpt_review.py.
type Summary struct {
	Relative, GPT4, Model float64 // relative score, GPT-4 x10, model x10
}

// Run is one review file's summary.
type Run struct {
	File       string
	Categories map[string]Summary // "all" and each category
}

// Report is the result over the review runs.
type Report struct {
	Runs  []Run
	Score float64 // mean "all" relative score over Runs
}

// Headline is the mean overall relative score.
func (r *Report) Headline() float64 { return r.Score }

// Metrics returns each category's relative score averaged over runs and
// each run's printed triple.
func (r *Report) Metrics() map[string]float64 {
	m := map[string]float64{"runs": float64(len(r.Runs))}
	for i, run := range r.Runs {
		for c, s := range run.Categories {
			p := fmt.Sprintf("run%d/%s/", i+1, c)
			m[p+"relative"] = s.Relative
			m[p+"gpt4"] = s.GPT4
			m[p+"model"] = s.Model
			m[c] += s.Relative / float64(len(r.Runs))
		}
	}
	return m
}

// Summarize is summarize_gpt_review.py on one review file. answerIDs, when
// non-nil, maps each question id to its answer_id in the answer file: every
// question must then be reviewed once, for that answer.
func Summarize(path string, answerIDs map[input.ID]string) (Run, error) {
	scores := map[string][][]float64{}
	seen := map[input.ID]int{}
	err := input.JSONL(path, func(n int, r *review) error {
		var pair []float64
		switch {
		case r.Tuple != nil:
			pair = r.Tuple
		case r.Category == nil && r.Score != nil:
			pair = r.Score
		default:
			p := ParseScore(r.Content)
			pair = p[:]
		}
		if len(pair) != 2 {
			return &input.SyntaxError{File: path, Line: n, Msg: fmt.Sprintf("score tuple has %d values, want 2", len(pair))}
		}
		if r.QuestionID != nil {
			id := *r.QuestionID
			if prev, dup := seen[id]; dup {
				return input.Errorf(path, n, input.ErrDuplicate, "question %v already reviewed on line %d", id, prev)
			}
			seen[id] = n
			if answerIDs != nil {
				aid, ok := answerIDs[id]
				if !ok {
					return input.Errorf(path, n, input.ErrUnknown, "review of question %v, which the answer file lacks", id)
				}
				if aid != "" && r.Answer2ID != "" && aid != r.Answer2ID {
					return input.Errorf(path, n, input.ErrInvalid, "review of question %v judges answer %s, but the answer file has %s", id, r.Answer2ID, aid)
				}
			}
		}
		if r.Category != nil {
			scores[*r.Category] = append(scores[*r.Category], pair)
		}
		scores["all"] = append(scores["all"], pair)
		return nil
	})
	if err != nil {
		return Run{}, err
	}
	for id := range answerIDs {
		if _, ok := seen[id]; !ok {
			return Run{}, input.Errorf(path, 0, input.ErrMissing, "no GPT-4 review of question %v: judge output missing", id)
		}
	}
	run := Run{File: path, Categories: map[string]Summary{}}
	for c, pairs := range scores {
		var s [2]float64
		for _, p := range pairs {
			s[0] += p[0]
			s[1] += p[1]
		}
		m0 := pyfmt.Round(s[0]/float64(len(pairs)), 3)
		m1 := pyfmt.Round(s[1]/float64(len(pairs)), 3)
		if m0 == 0 {
			return Run{}, input.Errorf(path, 0, input.ErrInvalid, "category %q: mean GPT-4 score is 0, relative score undefined", c)
		}
		run.Categories[c] = Summary{
			Relative: pyfmt.Round(m1/m0*100, 1),
			GPT4:     pyfmt.Round(m0*10, 1),
			Model:    pyfmt.Round(m1*10, 1),
		}
	}
	return run, nil
}

// ReviewFiles lists the review files for an answer file: annotations is one
// review file, or a folder whose <model>-eval<k>.jsonl files are taken
// (sorted), as summarize_gpt_review.py takes the files it is given; files
// naming the 0613 judge are skipped as the script does. The model is the
// answers file's stem when the folder has reviews under it, else the one
// model the folder has reviews of (several are refused: the score would mix
// models).
func ReviewFiles(answers, annotations string) ([]string, error) {
	st, err := os.Stat(annotations)
	if err != nil {
		return nil, err
	}
	if !st.IsDir() {
		return []string{annotations}, nil
	}
	stem := strings.TrimSuffix(filepath.Base(answers), ".jsonl")
	all, err := filepath.Glob(filepath.Join(annotations, "*.jsonl"))
	if err != nil {
		return nil, err
	}
	byModel := map[string][]string{}
	for _, f := range all {
		base := filepath.Base(f)
		if i := strings.LastIndex(base, "-eval"); i >= 0 && !strings.Contains(base, "0613") {
			byModel[base[:i]] = append(byModel[base[:i]], f)
		}
	}
	files := byModel[stem]
	if len(files) == 0 && len(byModel) == 1 {
		for _, fs := range byModel {
			files = fs
		}
	}
	if len(files) == 0 && len(byModel) > 1 {
		models := make([]string, 0, len(byModel))
		for m := range byModel {
			models = append(models, m)
		}
		sort.Strings(models)
		return nil, input.Errorf(annotations, 0, input.ErrMissing, "review files of %d models (%s), none named after the answers %s-eval<k>.jsonl: give one review file", len(models), strings.Join(models, ", "), stem)
	}
	sort.Strings(files)
	if len(files) == 0 {
		return nil, input.Errorf(annotations, 0, input.ErrMissing, "no GPT-4 review files %s-eval<k>.jsonl: judge outputs missing", stem)
	}
	return files, nil
}

// Score aggregates the review files for the answer file. questions is not
// needed by the official script and is ignored; answers, when non-empty,
// fixes which questions must be reviewed and which answers judged.
func Score(questions, answers, annotations string) (*Report, error) {
	files, err := ReviewFiles(answers, annotations)
	if err != nil {
		return nil, err
	}
	var ids map[input.ID]string
	if answers != "" {
		as, err := input.Answers(answers, false)
		if err != nil {
			return nil, err
		}
		byID, err := input.UniqueByID(answers, as)
		if err != nil {
			return nil, err
		}
		ids = make(map[input.ID]string, len(byID))
		for id, a := range byID {
			ids[id] = a.AnswerID
		}
	}
	r := &Report{}
	for _, f := range files {
		run, err := Summarize(f, ids)
		if err != nil {
			return nil, err
		}
		r.Runs = append(r.Runs, run)
		r.Score += run.Categories["all"].Relative
	}
	r.Score /= float64(len(r.Runs))
	return r, nil
}
