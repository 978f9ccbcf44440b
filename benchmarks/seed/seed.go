// Package seed scores SEED-Bench as LLaVA's convert_seed_for_submission.py
// does: a prediction is right iff its text equals the answer letter exactly
// (no trimming: "B." and " D" are wrong); a question without a prediction is
// wrong. Over the questions of a data type (all, image, video):
//
//	accuracy = sum_types #correct / sum_types #questions * 100
//
// weighted by count, not a mean of the per-type accuracies. LLaVA reports
// the image accuracy (SEED-IMG).
package seed

import (
	"bufio"
	"fmt"
	"os"
	"sort"
	"strconv"
	"strings"

	"github.com/tive-dev/tive/benchmarks/internal/input"
	"github.com/tive-dev/tive/benchmarks/internal/pyjson"
)

// Question is a SEED-Bench.json question.
type Question struct {
	Answer     string   `json:"answer"`
	DataType   string   `json:"data_type"`
	QuestionID input.ID `json:"question_id"`
	TypeID     int      `json:"question_type_id"`
}

// Bench is SEED-Bench.json.
type Bench struct {
	QuestionType map[string]int `json:"question_type"`
	Questions    []Question     `json:"questions"`
}

// ReadBench reads SEED-Bench.json.
func ReadBench(path string) (*Bench, error) {
	var b Bench
	if err := input.JSONFile(path, &b); err != nil {
		return nil, err
	}
	if len(b.Questions) == 0 {
		return nil, input.Errorf(path, 0, input.ErrEmpty, `no "questions"`)
	}
	return &b, nil
}

// key is the question id the script looks results up by: int(question_id)
// where that parses, else the id itself.
func key(id input.ID) input.ID {
	if id.IsNum() {
		return id
	}
	s := strings.ReplaceAll(strings.TrimSpace(id.Raw()), "_", "")
	if n, err := strconv.ParseInt(s, 10, 64); err == nil && !strings.HasPrefix(id.Raw(), "_") {
		return input.NumID(n)
	}
	return id
}

// Split is one eval_single call: per question type and total.
type Split struct {
	Correct, Count map[int]int
	Total          float64 // x100
}

// Report is the result of scoring SEED-Bench.
type Report struct {
	All, Image, Video *Split // nil when there are no such questions
	TypeNames         map[int]string
	Missing           int // questions without an answer (wrong)
	input.Lenience
}

// Warnings says what the official script silently replaced or skipped.
func (r *Report) Warnings() []string {
	return r.Lenience.Warnings("SEED-Bench.json", "convert_seed_for_submission.py")
}

// Headline is the image accuracy x100.
func (r *Report) Headline() float64 { return r.Image.Total }

// Metrics returns the three totals and each question type's accuracy.
func (r *Report) Metrics() map[string]float64 {
	m := map[string]float64{"missing": float64(r.Missing), "ignored": float64(r.Ignored), "replaced": float64(r.Replaced)}
	for name, s := range map[string]*Split{"all": r.All, "image": r.Image, "video": r.Video} {
		if s == nil {
			continue
		}
		m[name] = s.Total
		if name != "all" {
			continue
		}
		for t, n := range s.Count {
			label := r.TypeNames[t]
			if label == "" {
				label = fmt.Sprint("type ", t)
			}
			m["type/"+label] = float64(s.Correct[t]) / float64(n) * 100
		}
	}
	return m
}

func evalSingle(b *Bench, preds map[input.ID]*input.Answer, dataType string) *Split {
	s := &Split{Correct: map[int]int{}, Count: map[int]int{}}
	for _, q := range b.Questions {
		if dataType != "" && q.DataType != dataType {
			continue
		}
		s.Count[q.TypeID]++
		if a, ok := preds[key(q.QuestionID)]; ok && a.Text == q.Answer {
			s.Correct[q.TypeID]++
		}
	}
	correct, count := 0, 0
	for t, n := range s.Count {
		correct += s.Correct[t]
		count += n
	}
	if count == 0 {
		return nil
	}
	s.Total = float64(correct) / float64(count) * 100
	return s
}

// Score scores LLaVA's merged answer file against SEED-Bench.json as
// convert_seed_for_submission.py does: a question without an answer is
// wrong, the last of several answers to a question counts, and answers to
// questions the benchmark lacks are ignored (Report.Missing, Replaced and
// Ignored count them; Warnings says so). questions is ignored.
func Score(questions, answers, annotations string) (*Report, error) {
	b, err := ReadBench(annotations)
	if err != nil {
		return nil, err
	}
	preds, lax, err := readPreds(answers, b)
	if err != nil {
		return nil, err
	}
	r := &Report{TypeNames: map[int]string{}, Lenience: lax}
	for name, id := range b.QuestionType {
		r.TypeNames[id] = name
	}
	for _, q := range b.Questions {
		if _, ok := preds[key(q.QuestionID)]; !ok {
			r.Missing++
		}
	}
	r.All = evalSingle(b, preds, "")
	r.Image = evalSingle(b, preds, "image")
	r.Video = evalSingle(b, preds, "video")
	if r.Image == nil {
		return nil, input.Errorf(annotations, 0, input.ErrEmpty, "no image questions, so SEED-IMG is undefined")
	}
	return r, nil
}

// readPreds indexes the answers as convert_seed_for_submission.py's results
// dict: the last answer for an id counts (replaced counts the others), and
// answers for ids the benchmark lacks are never looked up (ignored counts
// them).
func readPreds(answers string, b *Bench) (map[input.ID]*input.Answer, input.Lenience, error) {
	as, err := input.Answers(answers, false)
	if err != nil {
		return nil, input.Lenience{}, err
	}
	known := map[input.ID]bool{}
	for _, q := range b.Questions {
		known[key(q.QuestionID)] = true
	}
	preds, replaced, ignored := input.AsDict(as, func(id input.ID) bool { return known[id] })
	return preds, input.Lenience{Replaced: replaced, Ignored: ignored}, nil
}

// WriteUpload writes the upload file convert_seed_for_submission.py writes:
// one line {"question_id": <id as in SEED-Bench.json>, "prediction": text}
// per question. Every question needs an answer.
func WriteUpload(path, answers, annotations string) error {
	b, err := ReadBench(annotations)
	if err != nil {
		return err
	}
	preds, _, err := readPreds(answers, b)
	if err != nil {
		return err
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w := bufio.NewWriter(f)
	for _, q := range b.Questions {
		a, ok := preds[q.QuestionID]
		if !ok {
			a, ok = preds[key(q.QuestionID)]
		}
		if !ok {
			f.Close()
			return input.Errorf(answers, 0, input.ErrMissing, "no answer for question %v", q.QuestionID)
		}
		id, _ := q.QuestionID.MarshalJSON()
		if !q.QuestionID.IsNum() {
			id = []byte(pyjson.Quote(q.QuestionID.Raw()))
		}
		fmt.Fprintln(w, pyjson.Object(pyjson.Pair{Key: "question_id", Value: string(id)}, pyjson.Pair{Key: "prediction", Value: pyjson.Quote(a.Text)}))
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// TypeIDs returns the question type ids in order, for tables.
func (s *Split) TypeIDs() []int {
	ids := make([]int, 0, len(s.Count))
	for t := range s.Count {
		ids = append(ids, t)
	}
	sort.Ints(ids)
	return ids
}
