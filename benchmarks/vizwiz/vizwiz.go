// Package vizwiz scores VizWiz-VQA as LLaVA's flow does: each prediction is
// normalised by the m4c processor (convert_vizwiz_for_submission.py, the
// upload), then scored by the VizWiz evaluator (vqa.VizWizAccuracy: its own
// punctuation/digit/article processing with a curly-apostrophe contraction
// map, ground truth used raw):
//
//	acc(pred) = 1/n * sum_i min(1, #{j != i : gt_j == pred} / 3)
//	accuracy  = round(100 * mean acc, 2)
//
// with the same per answer_type. Test-split answers are private; scoring
// needs the val annotations. WriteUpload writes the test upload file.
package vizwiz

import (
	"os"
	"strings"

	"github.com/tive-dev/tive/benchmarks/internal/input"
	"github.com/tive-dev/tive/benchmarks/internal/pyfmt"
	"github.com/tive-dev/tive/benchmarks/internal/pyjson"
	"github.com/tive-dev/tive/benchmarks/vqa"
)

// Annotation is one entry of VizWiz val.json.
type Annotation struct {
	Image   string `json:"image"`
	Answers []struct {
		Answer string `json:"answer"`
	} `json:"answers"`
	AnswerType string `json:"answer_type"`
}

// Upload is one entry of the upload file.
type Upload struct {
	Image, Answer string
}

// Convert is convert_vizwiz_for_submission.py: for each question, in
// question-file order, its image and the m4c-normalised answer. Every
// question needs an answer (the script asserts it); as the script's dict of
// results, the last answer for an id counts, answers for ids the question
// file lacks are ignored, and lines that are not JSON are skipped (lax
// counts each).
func Convert(questions, answers string) (out []Upload, lax input.Lenience, err error) {
	qs, err := input.Questions(questions)
	if err != nil {
		return nil, lax, err
	}
	as, skipped, err := input.AnswersSkippingBadLines(answers)
	if err != nil {
		return nil, lax, err
	}
	known := make(map[input.ID]bool, len(qs))
	for _, q := range qs {
		known[q.QuestionID] = true
	}
	byID, replaced, ignored := input.AsDict(as, func(id input.ID) bool { return known[id] })
	lax = input.Lenience{Replaced: replaced, Ignored: ignored, Skipped: skipped}
	out = make([]Upload, 0, len(qs))
	for _, q := range qs {
		a, ok := byID[q.QuestionID]
		if !ok {
			return nil, lax, input.Errorf(questions, q.Line, input.ErrMissing, "question %v has no answer in %s", q.QuestionID, answers)
		}
		out = append(out, Upload{Image: q.Image, Answer: vqa.Normalize(a.Text)})
	}
	return out, lax, nil
}

// WriteUpload writes the upload JSON as LLaVA's script does (json.dump).
func WriteUpload(path, questions, answers string) error {
	up, _, err := Convert(questions, answers)
	if err != nil {
		return err
	}
	var b strings.Builder
	b.WriteByte('[')
	for i, u := range up {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(pyjson.Object(pyjson.Pair{Key: "image", Value: pyjson.Quote(u.Image)}, pyjson.Pair{Key: "answer", Value: pyjson.Quote(u.Answer)}))
	}
	b.WriteByte(']')
	return os.WriteFile(path, []byte(b.String()), 0o644)
}

// Report is the result of scoring VizWiz val.
type Report struct {
	N          int
	Overall    float64            // round(100*mean, 2)
	AnswerType map[string]float64 // round(100*mean, 2) per answer_type
	input.Lenience
}

// Headline is the overall accuracy.
func (r *Report) Headline() float64 { return r.Overall }

// Warnings says what convert_vizwiz_for_submission.py does silently.
func (r *Report) Warnings() []string {
	return r.Lenience.Warnings("the question file", "convert_vizwiz_for_submission.py")
}

// Metrics returns overall and per answer type accuracies.
func (r *Report) Metrics() map[string]float64 {
	m := map[string]float64{"overall": r.Overall, "questions": float64(r.N)}
	for k, v := range r.AnswerType {
		m["answer_type/"+k] = v
	}
	return m
}

// Score converts the answers as for upload and scores them against val.json
// (a list of annotations, matched by image). The uploaded images and the
// annotated images must be the same set, as the evaluator asserts.
func Score(questions, answers, annotations string) (*Report, error) {
	up, lax, err := Convert(questions, answers)
	if err != nil {
		return nil, err
	}
	var anns []Annotation
	if err := input.JSONFile(annotations, &anns); err != nil {
		return nil, err
	}
	if len(anns) == 0 {
		return nil, input.Errorf(annotations, 0, input.ErrEmpty, "no annotations")
	}
	byImage := make(map[string]*Annotation, len(anns))
	for i := range anns {
		byImage[anns[i].Image] = &anns[i]
	}
	res := make(map[string]string, len(up))
	for _, u := range up {
		if _, ok := byImage[u.Image]; !ok {
			return nil, input.Errorf(questions, 0, input.ErrUnknown, "image %s is not in %s", u.Image, annotations)
		}
		if _, dup := res[u.Image]; dup {
			return nil, input.Errorf(questions, 0, input.ErrDuplicate, "image %s is asked twice", u.Image)
		}
		res[u.Image] = u.Answer
	}
	r := &Report{AnswerType: map[string]float64{}, Lenience: lax}
	sum := 0.0
	typeSum, typeN := map[string]float64{}, map[string]int{}
	for _, a := range anns {
		pred, ok := res[a.Image]
		if !ok {
			return nil, input.Errorf(annotations, 0, input.ErrMissing, "image %s has no answer", a.Image)
		}
		gt := make([]string, len(a.Answers))
		for i, x := range a.Answers {
			gt[i] = x.Answer
		}
		acc := vqa.VizWizAccuracy(pred, gt)
		sum += acc
		typeSum[a.AnswerType] += acc
		typeN[a.AnswerType]++
		r.N++
	}
	r.Overall = pyfmt.Round(100*sum/float64(r.N), 2)
	for t, s := range typeSum {
		r.AnswerType[t] = pyfmt.Round(100*s/float64(typeN[t]), 2)
	}
	return r, nil
}
