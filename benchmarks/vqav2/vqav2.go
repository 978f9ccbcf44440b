// Package vqav2 scores VQAv2 as LLaVA's flow does: each prediction is
// normalised by the m4c processor (convert_vqav2_for_submission.py, the
// upload; a question without an answer uploads ""), then scored by the
// official GT-Vision-Lab vqaEval.py (vqa.OfficialAccuracy: normalise only
// when the 10 ground-truth answers are not all identical):
//
//	acc(pred) = 1/10 * sum_i min(1, #{j != i : gt_j == pred} / 3)
//	accuracy  = round(100 * mean acc, 2)
//
// with the same per answer_type and question_type. Test-dev answers are
// private: Score needs val annotations; WriteUpload writes the test upload.
package vqav2

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/tive-dev/tive/benchmarks/internal/input"
	"github.com/tive-dev/tive/benchmarks/internal/pyfmt"
	"github.com/tive-dev/tive/benchmarks/internal/pyjson"
	"github.com/tive-dev/tive/benchmarks/vqa"
)

// Upload is one entry of the upload file.
type Upload struct {
	QuestionID input.ID
	Answer     string
}

// Convert is convert_vqav2_for_submission.py over the question file: the
// m4c-normalised answer, or "" for a question without one (missing counts
// them). As the script's dict of results, the last answer for an id counts
// and answers for ids the question file lacks are ignored, and lines that
// are not JSON are skipped (lax counts each).
func Convert(questions, answers string) (up []Upload, missing int, lax input.Lenience, err error) {
	qs, err := input.Questions(questions)
	if err != nil {
		return nil, 0, lax, err
	}
	as, skipped, err := input.AnswersSkippingBadLines(answers)
	if err != nil {
		return nil, 0, lax, err
	}
	known := make(map[input.ID]bool, len(qs))
	for _, q := range qs {
		known[q.QuestionID] = true
	}
	byID, replaced, ignored := input.AsDict(as, func(id input.ID) bool { return known[id] })
	lax = input.Lenience{Replaced: replaced, Ignored: ignored, Skipped: skipped}
	for _, q := range qs {
		if a, ok := byID[q.QuestionID]; ok {
			up = append(up, Upload{q.QuestionID, vqa.Normalize(a.Text)})
		} else {
			up = append(up, Upload{q.QuestionID, ""})
			missing++
		}
	}
	return up, missing, lax, nil
}

// WriteUpload writes the upload JSON as LLaVA's script does (json.dump).
func WriteUpload(path, questions, answers string) error {
	up, _, _, err := Convert(questions, answers)
	if err != nil {
		return err
	}
	var b strings.Builder
	b.WriteByte('[')
	for i, u := range up {
		if i > 0 {
			b.WriteString(", ")
		}
		id, _ := u.QuestionID.MarshalJSON()
		if !u.QuestionID.IsNum() {
			id = []byte(pyjson.Quote(u.QuestionID.Raw()))
		}
		b.WriteString(pyjson.Object(pyjson.Pair{Key: "question_id", Value: string(id)}, pyjson.Pair{Key: "answer", Value: pyjson.Quote(u.Answer)}))
	}
	b.WriteByte(']')
	return os.WriteFile(path, []byte(b.String()), 0o644)
}

// Annotation is one entry of the official annotations file.
type Annotation struct {
	QuestionID   input.ID                     `json:"question_id"`
	QuestionType string                       `json:"question_type"`
	AnswerType   string                       `json:"answer_type"`
	Answers      []map[string]json.RawMessage `json:"answers"`
}

// annotationFile finds the annotations JSON: the file itself, or the one
// file in the folder whose name contains "annotations".
func annotationFile(path string) (string, error) {
	st, err := os.Stat(path)
	if err != nil {
		return "", err
	}
	if !st.IsDir() {
		return path, nil
	}
	files, _ := filepath.Glob(filepath.Join(path, "*annotations*.json"))
	if len(files) != 1 {
		return "", fmt.Errorf("%s: want exactly one *annotations*.json file, found %d", path, len(files))
	}
	return files[0], nil
}

// Report is the result of scoring VQAv2 val.
type Report struct {
	N, Missing int
	input.Lenience
	Overall      float64
	AnswerType   map[string]float64
	QuestionType map[string]float64
}

// Headline is the overall accuracy.
func (r *Report) Headline() float64 { return r.Overall }

// Warnings says what convert_vqav2_for_submission.py does silently.
func (r *Report) Warnings() []string {
	return r.Lenience.Warnings("the question file", "convert_vqav2_for_submission.py")
}

// Metrics returns overall, per answer type and per question type.
func (r *Report) Metrics() map[string]float64 {
	m := map[string]float64{"overall": r.Overall, "questions": float64(r.N), "missing": float64(r.Missing)}
	for k, v := range r.AnswerType {
		m["answer_type/"+k] = v
	}
	for k, v := range r.QuestionType {
		m["question_type/"+k] = v
	}
	return m
}

// Score converts the answers as for upload and scores them with vqaEval.py
// against the annotations (a file or a folder holding it). The question set
// must equal the annotated set, as vqaEval's loadRes asserts.
func Score(questions, answers, annotations string) (*Report, error) {
	up, missing, lax, err := Convert(questions, answers)
	if err != nil {
		return nil, err
	}
	file, err := annotationFile(annotations)
	if err != nil {
		return nil, err
	}
	var doc struct {
		Annotations []Annotation `json:"annotations"`
	}
	if err := input.JSONFile(file, &doc); err != nil {
		return nil, err
	}
	if len(doc.Annotations) == 0 {
		return nil, input.Errorf(file, 0, input.ErrEmpty, `no "annotations"`)
	}
	byID := make(map[input.ID]*Annotation, len(doc.Annotations))
	for i := range doc.Annotations {
		byID[doc.Annotations[i].QuestionID] = &doc.Annotations[i]
	}
	res := make(map[input.ID]string, len(up))
	for _, u := range up {
		if _, ok := byID[u.QuestionID]; !ok {
			return nil, input.Errorf(questions, 0, input.ErrUnknown, "question %v is not in %s", u.QuestionID, file)
		}
		if _, dup := res[u.QuestionID]; dup {
			return nil, input.Errorf(questions, 0, input.ErrDuplicate, "question %v is asked twice", u.QuestionID)
		}
		res[u.QuestionID] = u.Answer
	}
	r := &Report{Missing: missing, Lenience: lax, AnswerType: map[string]float64{}, QuestionType: map[string]float64{}}
	sum := 0.0
	aSum, aN := map[string]float64{}, map[string]int{}
	qSum, qN := map[string]float64{}, map[string]int{}
	for _, a := range doc.Annotations {
		pred, ok := res[a.QuestionID]
		if !ok {
			return nil, input.Errorf(file, 0, input.ErrMissing, "annotated question %v is not in %s", a.QuestionID, questions)
		}
		acc := Accuracy(pred, a.Answers)
		sum += acc
		aSum[a.AnswerType] += acc
		aN[a.AnswerType]++
		qSum[a.QuestionType] += acc
		qN[a.QuestionType]++
		r.N++
	}
	r.Overall = pyfmt.Round(100*sum/float64(r.N), 2)
	for t, s := range aSum {
		r.AnswerType[t] = pyfmt.Round(100*s/float64(aN[t]), 2)
	}
	for t, s := range qSum {
		r.QuestionType[t] = pyfmt.Round(100*s/float64(qN[t]), 2)
	}
	return r, nil
}

// Accuracy is vqaEval.py on one question whose ground-truth entries are
// dicts: as in Python, the leave-one-out set drops every entry equal to the
// current one (answer and all other fields), so entries should carry
// distinct answer_ids as the official annotations do.
func Accuracy(pred string, answers []map[string]json.RawMessage) float64 {
	gt := make([]string, len(answers))
	rest := make([]string, len(answers))
	for i, a := range answers {
		var s string
		_ = json.Unmarshal(a["answer"], &s)
		gt[i] = s
		keys := make([]string, 0, len(a))
		for k := range a {
			if k != "answer" {
				keys = append(keys, k)
			}
		}
		sort.Strings(keys)
		var b strings.Builder
		for _, k := range keys {
			b.WriteString(k)
			b.WriteByte(0)
			b.Write(a[k])
			b.WriteByte(0)
		}
		rest[i] = b.String()
	}
	pred, gt = vqa.OfficialPrepare(pred, gt)
	if len(gt) == 0 {
		return 0
	}
	sum := 0.0
	for i := range gt {
		m := 0
		for j := range gt {
			if gt[j] == pred && !(gt[j] == gt[i] && rest[j] == rest[i]) {
				m++
			}
		}
		sum += min(1, float64(m)/3)
	}
	return sum / float64(len(gt))
}
