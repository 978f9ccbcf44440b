// Package textvqa scores TextVQA (val) as LLaVA's eval_textvqa.py does.
//
// Each answer is matched to its annotation by (image_id, question), the
// question being recovered from the prompt (the line before or after the
// "Reference OCR token: " line) and lower-cased; LLaVA's question_id is the
// image id. The prediction and the 10 ground-truth answers are normalised
// with the m4c processor (vqa.Normalize) and scored with the VQA soft
// accuracy (vqa.Accuracy):
//
//	accuracy = mean over answers of acc(pred) * 100
package textvqa

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/tive-dev/tive/benchmarks/internal/input"
	"github.com/tive-dev/tive/benchmarks/vqa"
)

var ocrQuestion = regexp.MustCompile(`(?s)Question: (.*?) Short answer:`)

// QuestionFromPrompt is eval_textvqa.py's prompt_processor; ok is false
// where the script's assertion (or regex) fails.
func QuestionFromPrompt(prompt string) (q string, ok bool) {
	lines := strings.Split(prompt, "\n")
	switch {
	case strings.HasPrefix(prompt, "OCR tokens: "):
		m := ocrQuestion.FindStringSubmatch(prompt)
		if m == nil {
			return "", false
		}
		q = m[1]
	case strings.Contains(prompt, "Reference OCR token: ") && len(lines) == 3:
		if strings.HasPrefix(prompt, "Reference OCR token:") {
			q = lines[1]
		} else {
			q = lines[0]
		}
	case len(lines) == 2:
		q = lines[0]
	default:
		return "", false
	}
	return strings.ToLower(q), true
}

type annotation struct {
	ImageID  string   `json:"image_id"`
	Question string   `json:"question"`
	Answers  []string `json:"answers"`
}

// Report is the result of scoring TextVQA.
type Report struct {
	N          int
	Accuracy   float64 // x100
	Repeated   int     // answers to a question already answered (each is scored)
	Unanswered int     // questions of the question file without an answer
}

// Warnings says what eval_textvqa.py does silently: it scores every answer
// line, repeats included, and averages over the answers there are.
func (r *Report) Warnings() []string {
	var w []string
	if r.Repeated > 0 {
		w = append(w, fmt.Sprintf("%d answers repeat a question already answered; each is scored, as eval_textvqa.py scores every line", r.Repeated))
	}
	if r.Unanswered > 0 {
		w = append(w, fmt.Sprintf("%d questions have no answer; the accuracy is over the %d answers there are, as in eval_textvqa.py", r.Unanswered, r.N))
	}
	return w
}

// Headline is the accuracy x100.
func (r *Report) Headline() float64 { return r.Accuracy }

// Metrics returns the accuracy and the number of answers scored.
func (r *Report) Metrics() map[string]float64 {
	return map[string]float64{"accuracy": r.Accuracy, "samples": float64(r.N), "repeated": float64(r.Repeated), "unanswered": float64(r.Unanswered)}
}

type key struct{ image, question string }

// Score scores an answer file against TextVQA_0.5.1_val.json as
// eval_textvqa.py does: every answer line is scored, and the accuracy is the
// mean over them. When the question file is given, questions without an
// answer are counted (Report.Unanswered), as are repeated answers
// (Report.Repeated); Warnings says so.
func Score(questions, answers, annotations string) (*Report, error) {
	var doc struct {
		Data []annotation `json:"data"`
	}
	if err := input.JSONFile(annotations, &doc); err != nil {
		return nil, err
	}
	if len(doc.Data) == 0 {
		return nil, input.Errorf(annotations, 0, input.ErrEmpty, `no "data" entries`)
	}
	ann := make(map[key]*annotation, len(doc.Data))
	for i := range doc.Data {
		a := &doc.Data[i]
		ann[key{a.ImageID, strings.ToLower(a.Question)}] = a
	}
	as, err := input.Answers(answers, true)
	if err != nil {
		return nil, err
	}
	type qkey struct {
		id     input.ID
		prompt string
	}
	seen := map[qkey]bool{}
	r := &Report{N: len(as)}
	sum := 0.0
	for _, a := range as {
		k := qkey{a.QuestionID, a.Prompt}
		if seen[k] {
			r.Repeated++
		}
		seen[k] = true
		q, ok := QuestionFromPrompt(a.Prompt)
		if !ok {
			return nil, input.Errorf(answers, a.Line, input.ErrInvalid, "cannot recover the question from prompt %q", a.Prompt)
		}
		an := ann[key{a.QuestionID.Raw(), q}]
		if an == nil || a.QuestionID.IsNum() {
			return nil, input.Errorf(answers, a.Line, input.ErrUnknown, "no annotation for image %v, question %q", a.QuestionID, q)
		}
		if len(an.Answers) != 10 {
			return nil, input.Errorf(annotations, 0, input.ErrInvalid, "image %s question %q has %d answers, want 10", an.ImageID, an.Question, len(an.Answers))
		}
		sum += Accuracy(a.Text, an.Answers)
	}
	if questions != "" {
		qs, err := input.Questions(questions)
		if err != nil {
			return nil, err
		}
		for _, q := range qs {
			if !seen[qkey{q.QuestionID, q.Text}] {
				r.Unanswered++
			}
		}
	}
	r.Accuracy = 100 * (sum / float64(len(as)))
	return r, nil
}

// Accuracy is one answer's score: m4c on prediction and ground truth, then
// the VQA soft accuracy.
func Accuracy(pred string, gt []string) float64 {
	norm := make([]string, len(gt))
	for i, g := range gt {
		norm[i] = vqa.Normalize(g)
	}
	return vqa.Accuracy(vqa.Normalize(pred), norm)
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return fmt.Sprint(s)
}
