// Package mme scores MME as LLaVA's flow does: convert_answer_to_mme.py turns
// the answer file into the eval tool's per-subtask files, then the official
// eval_tool/calculation.py scores them.
//
// An answer is lower-cased and, as calculation.py reads it with its line
// ending, its first four characters are searched for "yes", then "no";
// otherwise it is "other" (wrong). Per subtask, with the two questions of an
// image on consecutive lines:
//
//	acc   = #correct / #questions
//	acc+  = #images with both questions correct / #images
//	score = 100*acc + 100*acc+          (at most 200)
//
// Perception is the sum of the 10 perception subtask scores (at most 2000),
// Cognition the sum of the 4 cognition ones; LLaVA reports Perception.
package mme

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/tive-dev/tive/benchmarks/internal/input"
)

// Perception and Cognition list the subtasks in calculation.py's order.
var (
	Perception = []string{"existence", "count", "position", "color", "posters", "celebrity", "scene", "landmark", "artwork", "OCR"}
	Cognition  = []string{"commonsense_reasoning", "numerical_calculation", "text_translation", "code_reasoning"}
)

const (
	shortSuffix = "Answer the question using a single word or phrase."
	mmeSuffix   = "Please answer yes or no."
)

// GT is MME's ground truth keyed by (subtask, image .txt name, question).
type GT map[[3]string]string

// ReadGT reads MME_Benchmark_release_version/: one folder per subtask,
// holding <img>.txt files (or questions_answers_YN/<img>.txt beside images/)
// with lines "question<TAB>Yes|No".
func ReadGT(root string) (GT, error) {
	entries, err := os.ReadDir(root)
	if err != nil {
		return nil, err
	}
	gt := GT{}
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		cat := e.Name()
		qa := filepath.Join(root, cat)
		if st, err := os.Stat(filepath.Join(qa, "images")); err == nil && st.IsDir() {
			qa = filepath.Join(qa, "questions_answers_YN")
		}
		files, err := os.ReadDir(qa)
		if err != nil {
			return nil, err
		}
		for _, f := range files {
			if f.IsDir() || !strings.HasSuffix(f.Name(), ".txt") {
				continue
			}
			path := filepath.Join(qa, f.Name())
			fh, err := os.Open(path)
			if err != nil {
				return nil, err
			}
			err = input.Lines(fh, func(n int, line []byte) error {
				parts := strings.Split(strings.TrimSpace(string(line)), "\t")
				if len(parts) != 2 {
					return &input.SyntaxError{File: path, Line: n, Msg: fmt.Sprintf("want question<TAB>answer, got %d fields", len(parts))}
				}
				gt[[3]string{cat, f.Name(), parts[0]}] = parts[1]
				return nil
			})
			fh.Close()
			if err != nil {
				return nil, err
			}
		}
	}
	if len(gt) == 0 {
		return nil, input.Errorf(root, 0, input.ErrEmpty, "no MME ground-truth .txt files")
	}
	return gt, nil
}

// A Line is one line of an eval-tool answer file: img, question, gt, pred.
type Line struct {
	Image, Question, GT, Pred string
	answerLine                int
}

// Convert is convert_answer_to_mme.py: it groups answers by subtask (the
// question id's first path element), in answer-file order, and looks up each
// one's ground truth. It refuses an answer without ground truth, and answer
// texts containing a tab or line break, which calculation.py cannot read.
func Convert(answersFile string, answers []input.Answer, gt GT) (map[string][]Line, error) {
	out := map[string][]Line{}
	for _, a := range answers {
		if a.QuestionID.IsNum() {
			return nil, input.Errorf(answersFile, a.Line, input.ErrInvalid, "MME question id %v must be a string <subtask>/<image>", a.QuestionID)
		}
		id := a.QuestionID.Raw()
		cat := strings.SplitN(id, "/", 2)[0]
		base := id[strings.LastIndexByte(id, '/')+1:]
		file := strings.SplitN(base, ".", 2)[0] + ".txt"
		prompt := a.Prompt
		if strings.Contains(prompt, shortSuffix) {
			prompt = strings.TrimSpace(strings.ReplaceAll(prompt, shortSuffix, ""))
		}
		if !strings.Contains(prompt, mmeSuffix) {
			prompt += " " + mmeSuffix
			if _, ok := gt[[3]string{cat, file, prompt}]; !ok {
				prompt = strings.ReplaceAll(prompt, " "+mmeSuffix, "  "+mmeSuffix)
			}
		}
		g, ok := gt[[3]string{cat, file, prompt}]
		if !ok {
			return nil, input.Errorf(answersFile, a.Line, input.ErrUnknown, "no MME ground truth for subtask %q, image %q, question %q", cat, file, prompt)
		}
		if strings.ContainsAny(a.Text, "\t\n\r") {
			return nil, input.Errorf(answersFile, a.Line, input.ErrInvalid, "answer %q contains a tab or line break, which MME's eval tool cannot read", a.Text)
		}
		out[cat] = append(out[cat], Line{Image: file, Question: prompt, GT: g, Pred: a.Text, answerLine: a.Line})
	}
	return out, nil
}

// WriteConverted writes the eval tool's files dir/<subtask>.txt exactly as
// convert_answer_to_mme.py does.
func WriteConverted(dir string, converted map[string][]Line) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	for cat, lines := range converted {
		f, err := os.Create(filepath.Join(dir, cat+".txt"))
		if err != nil {
			return err
		}
		w := bufio.NewWriter(f)
		for _, l := range lines {
			fmt.Fprintf(w, "%s\t%s\t%s\t%s\n", l.Image, l.Question, l.GT, l.Pred)
		}
		if err := w.Flush(); err != nil {
			f.Close()
			return err
		}
		if err := f.Close(); err != nil {
			return err
		}
	}
	return nil
}

// Parse is calculation.py's parse_pred_ans applied to an answer as read
// back from the eval-tool file (lower-cased, with its trailing newline).
func Parse(pred string) string {
	p := strings.ToLower(pred) + "\n"
	if p == "yes" || p == "no" {
		return p
	}
	if r := []rune(p); len(r) > 4 {
		p = string(r[:4])
	}
	switch {
	case strings.Contains(p, "yes"):
		return "yes"
	case strings.Contains(p, "no"):
		return "no"
	}
	return "other"
}

// Subtask is one subtask's result.
type Subtask struct {
	Name         string
	Questions    int
	Images       int
	Correct      int
	BothRight    int // images with both questions right
	Other        int // answers parsed as neither yes nor no
	Mispaired    int // line pairs whose two lines are of different images
	Acc, AccPlus float64
	Score        float64 // 100*Acc + 100*AccPlus
}

// Calculate is calculation.py on converted files: subtask is its name and
// lines its file's lines, taken two by two (the two questions of an image,
// when the answers are in order; calculation.py does not check, and neither
// does Calculate: Mispaired counts the pairs of two images).
func Calculate(answersFile, name string, lines []Line) (Subtask, error) {
	s := Subtask{Name: name, Questions: len(lines)}
	if len(lines) == 0 {
		return s, input.Errorf(answersFile, 0, input.ErrMissing, "no answers for MME subtask %q", name)
	}
	if len(lines)%2 != 0 {
		return s, input.Errorf(answersFile, 0, input.ErrMissing, "MME subtask %q has %d answers; each image needs its 2 questions answered on consecutive lines", name, len(lines))
	}
	for i := 0; i < len(lines); i += 2 {
		pair := lines[i : i+2]
		if pair[0].Image != pair[1].Image {
			s.Mispaired++
		}
		right := 0
		for _, l := range pair {
			g := strings.ToLower(l.GT)
			if g != "yes" && g != "no" {
				return s, input.Errorf(answersFile, l.answerLine, input.ErrInvalid, "MME ground truth %q for %s is neither yes nor no", l.GT, l.Image)
			}
			p := Parse(l.Pred)
			if p == "other" {
				s.Other++
			}
			if p == g {
				right++
			}
		}
		s.Correct += right
		if right == 2 {
			s.BothRight++
		}
	}
	s.Images = len(lines) / 2
	s.Acc = float64(s.Correct) / float64(s.Questions)
	s.AccPlus = float64(s.BothRight) / float64(s.Images)
	s.Score = 0 + s.Acc*100 + s.AccPlus*100
	return s, nil
}

// Report is the result of scoring MME.
type Report struct {
	Subtasks   []Subtask // Perception then Cognition order
	Perception float64
	Cognition  float64
	// What the official flow does silently, and Warnings reports: repeated
	// answers (each is written and scored), questions of the question file
	// without an answer or answers to questions it lacks, and answers to
	// subtasks calculation.py does not read.
	Repeated, Unanswered, Unasked int
	IgnoredSubtasks               []string
}

// Warnings says what convert_answer_to_mme.py and calculation.py did
// silently.
func (r *Report) Warnings() []string {
	var w []string
	mis := 0
	for _, s := range r.Subtasks {
		mis += s.Mispaired
	}
	for _, c := range []struct {
		n   int
		msg string
	}{
		{r.Repeated, "answers repeat a question already answered; each is scored, as convert_answer_to_mme.py writes every line"},
		{r.Unanswered, "questions of the question file have no answer (convert_answer_to_mme.py does not read it)"},
		{r.Unasked, "answers are to questions the question file does not have (convert_answer_to_mme.py does not read it)"},
		{mis, "line pairs join answers of two images; calculation.py pairs lines by position, so acc+ is over those pairs"},
	} {
		if c.n > 0 {
			w = append(w, fmt.Sprintf("%d %s", c.n, c.msg))
		}
	}
	if len(r.IgnoredSubtasks) > 0 {
		w = append(w, fmt.Sprintf("answers for subtasks calculation.py does not read are ignored: %s", strings.Join(r.IgnoredSubtasks, ", ")))
	}
	return w
}

// Headline is the perception total, the number LLaVA reports.
func (r *Report) Headline() float64 { return r.Perception }

// Metrics returns the totals and each subtask's score, acc and acc+.
func (r *Report) Metrics() map[string]float64 {
	m := map[string]float64{"perception": r.Perception, "cognition": r.Cognition}
	for _, s := range r.Subtasks {
		m[s.Name] = s.Score
		m[s.Name+"/acc"] = s.Acc
		m[s.Name+"/acc_plus"] = s.AccPlus
		m[s.Name+"/other"] = float64(s.Other)
	}
	return m
}

// Score converts and scores an answer file as the official flow does.
// questions (llava_mme.jsonl) may be empty; when given, it tells which
// questions have no answer (Report.Unanswered). annotations is
// MME_Benchmark_release_version/.
func Score(questions, answers, annotations string) (*Report, error) {
	as, err := input.Answers(answers, true)
	if err != nil {
		return nil, err
	}
	repeated, unanswered, unasked, err := checkAnswered(questions, as)
	if err != nil {
		return nil, err
	}
	gt, err := ReadGT(annotations)
	if err != nil {
		return nil, err
	}
	conv, err := Convert(answers, as, gt)
	if err != nil {
		return nil, err
	}
	r, err := Calculated(answers, conv)
	if err != nil {
		return nil, err
	}
	r.Repeated, r.Unanswered, r.Unasked = repeated, unanswered, unasked
	return r, nil
}

// Calculated scores converted answers (all 14 subtasks must be present, as
// calculation.py opens each subtask's file).
func Calculated(answersFile string, conv map[string][]Line) (*Report, error) {
	known := map[string]bool{}
	r := &Report{}
	for _, group := range [][]string{Perception, Cognition} {
		total := 0.0
		for _, name := range group {
			known[name] = true
			s, err := Calculate(answersFile, name, conv[name])
			if err != nil {
				return nil, err
			}
			r.Subtasks = append(r.Subtasks, s)
			total += s.Score
		}
		if len(r.Subtasks) == len(Perception) {
			r.Perception = total
		} else {
			r.Cognition = total
		}
	}
	var extra []string
	for name := range conv {
		if !known[name] {
			extra = append(extra, name)
		}
	}
	sort.Strings(extra)
	r.IgnoredSubtasks = extra
	return r, nil
}

// checkAnswered counts repeated answers and, given the question file, its
// questions without an answer and answers to questions it lacks.
func checkAnswered(questions string, as []input.Answer) (repeated, unanswered, unasked int, err error) {
	type key struct {
		id     input.ID
		prompt string
	}
	seen := map[key]bool{}
	for _, a := range as {
		k := key{a.QuestionID, a.Prompt}
		if seen[k] {
			repeated++
		}
		seen[k] = true
	}
	if questions == "" {
		return repeated, 0, 0, nil
	}
	qs, err := input.Questions(questions)
	if err != nil {
		return 0, 0, 0, err
	}
	asked := map[key]bool{}
	for _, q := range qs {
		k := key{q.QuestionID, q.Text}
		asked[k] = true
		if !seen[k] {
			unanswered++
		}
	}
	for k := range seen {
		if !asked[k] {
			unasked++
		}
	}
	return repeated, unanswered, unasked, nil
}

// Export writes the eval tool's answer files for an answer file into dir,
// as convert_answer_to_mme.py does; annotations is
// MME_Benchmark_release_version/.
func Export(dir, answers, annotations string) error {
	as, err := input.Answers(answers, true)
	if err != nil {
		return err
	}
	gt, err := ReadGT(annotations)
	if err != nil {
		return err
	}
	conv, err := Convert(answers, as, gt)
	if err != nil {
		return err
	}
	return WriteConverted(dir, conv)
}
