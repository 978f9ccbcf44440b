// Package input reads the LLaVA evaluation files (JSON Lines question and
// answer files, JSON annotation files) and reports bad input as typed errors
// that carry the file and line, in the style of golang.org/x/perf/benchfmt.
package input

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
)

// A SyntaxError is a line of a file that cannot be parsed.
type SyntaxError struct {
	File string // file name as given
	Line int    // 1-based line number; 0 for a whole-file JSON document
	Msg  string
}

func (e *SyntaxError) Error() string {
	if e.Line == 0 {
		return fmt.Sprintf("%s: %s", e.File, e.Msg)
	}
	return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Msg)
}

// Kinds of data errors; test with errors.Is.
var (
	ErrEmpty     = errors.New("empty file")
	ErrDuplicate = errors.New("duplicate id")
	ErrUnknown   = errors.New("unknown question id")
	ErrMissing   = errors.New("missing answer")
	ErrInvalid   = errors.New("invalid data")
)

// A DataError is well-formed input that the official flow would crash on or
// silently misscore: a duplicate or unknown id, a missing answer, an empty
// file. Kind is one of the Err* values above.
type DataError struct {
	File string
	Line int // 0 when the problem is not tied to one line
	Kind error
	Msg  string
}

func (e *DataError) Error() string {
	if e.Line == 0 {
		return fmt.Sprintf("%s: %v: %s", e.File, e.Kind, e.Msg)
	}
	return fmt.Sprintf("%s:%d: %v: %s", e.File, e.Line, e.Kind, e.Msg)
}

func (e *DataError) Unwrap() error { return e.Kind }

// Errorf returns a *DataError.
func Errorf(file string, line int, kind error, format string, args ...any) error {
	return &DataError{File: file, Line: line, Kind: kind, Msg: fmt.Sprintf(format, args...)}
}

// Lines calls fn with each line of r (without its line ending) and its
// 1-based number, as Python's "for line in open(f)" yields them; a final
// empty line after the last newline is not a line. It stops at the first
// error fn returns.
func Lines(r io.Reader, fn func(n int, line []byte) error) error {
	br := bufio.NewReaderSize(r, 1<<16)
	for n := 1; ; n++ {
		line, err := br.ReadSlice('\n')
		if err == bufio.ErrBufferFull {
			buf := append([]byte(nil), line...)
			for err == bufio.ErrBufferFull {
				line, err = br.ReadSlice('\n')
				buf = append(buf, line...)
			}
			line = buf
		}
		if len(line) == 0 && err == io.EOF {
			return nil
		}
		if err != nil && err != io.EOF {
			return err
		}
		line = bytes.TrimSuffix(line, []byte("\n"))
		line = bytes.TrimSuffix(line, []byte("\r"))
		if ferr := fn(n, line); ferr != nil {
			return ferr
		}
		if err == io.EOF {
			return nil
		}
	}
}

// JSONL decodes each line of the file at path into a fresh T and calls fn.
// A line that is not one JSON value (blank lines included, as json.loads
// rejects them) is a *SyntaxError. A file with no lines is ErrEmpty.
func JSONL[T any](path string, fn func(line int, v *T) error) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	return ReadJSONL(f, path, fn)
}

// ReadJSONL is JSONL on a reader; name is used in errors.
func ReadJSONL[T any](r io.Reader, name string, fn func(line int, v *T) error) error {
	count := 0
	err := Lines(r, func(n int, line []byte) error {
		count++
		v := new(T)
		if err := Unmarshal(line, v); err != nil {
			return &SyntaxError{File: name, Line: n, Msg: err.Error()}
		}
		return fn(n, v)
	})
	if err != nil {
		return err
	}
	if count == 0 {
		return Errorf(name, 0, ErrEmpty, "no lines")
	}
	return nil
}

// Unmarshal decodes exactly one JSON value from data.
func Unmarshal(data []byte, v any) error {
	if len(bytes.TrimSpace(data)) == 0 {
		return errors.New("blank line, want a JSON object")
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("bad JSON: %v", err)
	}
	if dec.More() {
		return errors.New("bad JSON: more than one value on the line")
	}
	return nil
}

// JSONFile decodes the whole file at path into v; errors are *SyntaxError
// with the line of the offending byte.
func JSONFile(path string, v any) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	if len(bytes.TrimSpace(data)) == 0 {
		return Errorf(path, 0, ErrEmpty, "no JSON document")
	}
	if err := json.Unmarshal(data, v); err != nil {
		line := 0
		var se *json.SyntaxError
		var te *json.UnmarshalTypeError
		switch {
		case errors.As(err, &se):
			line = 1 + bytes.Count(data[:min(int(se.Offset), len(data))], []byte("\n"))
		case errors.As(err, &te):
			line = 1 + bytes.Count(data[:min(int(te.Offset), len(data))], []byte("\n"))
		}
		return &SyntaxError{File: path, Line: line, Msg: "bad JSON: " + err.Error()}
	}
	return nil
}

// An ID is a question id as it appears in JSON: a string or a number. Like
// Python dict keys, "1" and 1 are different ids.
type ID struct {
	s     string
	isNum bool
}

// StringID and NumID make IDs.
func StringID(s string) ID { return ID{s: s} }
func NumID(n int64) ID     { return ID{s: strconv.FormatInt(n, 10), isNum: true} }

// IsNum reports whether the id was a JSON number.
func (id ID) IsNum() bool { return id.isNum }

// Raw is the id's text: the string itself, or the number's digits.
func (id ID) Raw() string { return id.s }

// IsZero reports whether id was never set (absent from the line).
func (id ID) IsZero() bool { return id == ID{} }

// String quotes string ids, so messages distinguish "1" from 1.
func (id ID) String() string {
	if id.isNum {
		return id.s
	}
	return strconv.Quote(id.s)
}

// UnmarshalJSON accepts a JSON string or an integer.
func (id *ID) UnmarshalJSON(b []byte) error {
	if len(b) > 0 && b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*id = ID{s: s}
		return nil
	}
	var n json.Number
	if err := json.Unmarshal(b, &n); err != nil {
		return fmt.Errorf("question id %s is neither a string nor a number", b)
	}
	i, err := strconv.ParseInt(string(n), 10, 64)
	if err != nil {
		return fmt.Errorf("question id %s is not an integer", b)
	}
	*id = NumID(i)
	return nil
}

// MarshalJSON writes the id back as it was read.
func (id ID) MarshalJSON() ([]byte, error) {
	if id.isNum {
		return []byte(id.s), nil
	}
	return json.Marshal(id.s)
}

// An Answer is one line of a LLaVA answer file (model_vqa, model_vqa_loader,
// model_vqa_science, model_vqa_mmbench).
type Answer struct {
	Line       int    `json:"-"`
	QuestionID ID     `json:"question_id"`
	Prompt     string `json:"prompt"`
	Text       string `json:"text"`
	AnswerID   string `json:"answer_id"`
	ModelID    string `json:"model_id"`
}

// answerJSON detects absent fields.
type answerJSON struct {
	QuestionID *ID     `json:"question_id"`
	Prompt     *string `json:"prompt"`
	Text       *string `json:"text"`
	AnswerID   any     `json:"answer_id"`
	ModelID    any     `json:"model_id"`
}

// Answers reads a LLaVA answer file. Every line must have question_id and
// text; prompt is required when needPrompt is set (the official scripts
// index it). An empty file is ErrEmpty.
func Answers(path string, needPrompt bool) ([]Answer, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return ReadAnswers(f, path, needPrompt)
}

// ReadAnswers is Answers on a reader; path is used in errors.
func ReadAnswers(r io.Reader, path string, needPrompt bool) ([]Answer, error) {
	var out []Answer
	err := ReadJSONL(r, path, func(n int, a *answerJSON) error {
		ans, err := a.answer(path, n, needPrompt)
		if err != nil {
			return err
		}
		out = append(out, ans)
		return nil
	})
	return out, err
}

// answer checks a decoded line n of path.
func (a *answerJSON) answer(path string, n int, needPrompt bool) (Answer, error) {
	if a.QuestionID == nil {
		return Answer{}, &SyntaxError{File: path, Line: n, Msg: `missing "question_id"`}
	}
	if a.Text == nil {
		return Answer{}, &SyntaxError{File: path, Line: n, Msg: `missing "text"`}
	}
	if needPrompt && a.Prompt == nil {
		return Answer{}, &SyntaxError{File: path, Line: n, Msg: `missing "prompt"`}
	}
	ans := Answer{Line: n, QuestionID: *a.QuestionID, Text: *a.Text}
	if a.Prompt != nil {
		ans.Prompt = *a.Prompt
	}
	if s, ok := a.AnswerID.(string); ok {
		ans.AnswerID = s
	}
	if s, ok := a.ModelID.(string); ok {
		ans.ModelID = s
	}
	return ans, nil
}

// AnswersSkippingBadLines reads an answer file as the VQAv2 and VizWiz
// conversion scripts do: a line json.loads cannot read (a blank one
// included) is skipped and counted (their error_line); a readable line
// still needs question_id and text. An empty result is ErrEmpty.
func AnswersSkippingBadLines(path string) (out []Answer, skipped int, err error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, 0, err
	}
	lines := bytes.Split(b, []byte("\n"))
	if len(lines) > 0 && len(lines[len(lines)-1]) == 0 {
		lines = lines[:len(lines)-1] // Python's lines end at the last newline
	}
	for i, l := range lines {
		var a answerJSON
		if !json.Valid(l) || json.Unmarshal(l, &a) != nil {
			skipped++
			continue
		}
		ans, err := a.answer(path, i+1, false)
		if err != nil {
			return nil, 0, err
		}
		out = append(out, ans)
	}
	if len(out) == 0 {
		return nil, skipped, Errorf(path, 0, ErrEmpty, "no readable answer lines (%d skipped)", skipped)
	}
	return out, skipped, nil
}

// A Question is one line of a LLaVA question file.
type Question struct {
	Line       int    `json:"-"`
	QuestionID ID     `json:"question_id"`
	Image      string `json:"image"`
	Text       string `json:"text"`
	Category   string `json:"category"`
}

// Questions reads a LLaVA question JSONL file; every line needs question_id.
func Questions(path string) ([]Question, error) {
	var out []Question
	err := JSONL(path, func(n int, q *Question) error {
		if q.QuestionID.IsZero() {
			return &SyntaxError{File: path, Line: n, Msg: `missing "question_id"`}
		}
		q.Line = n
		out = append(out, *q)
		return nil
	})
	return out, err
}

// LastByID indexes answers by question id as a Python dict built in file
// order does: a later answer for an id replaces the earlier one. replaced
// counts the answers so replaced.
func LastByID(answers []Answer) (m map[ID]*Answer, replaced int) {
	m = make(map[ID]*Answer, len(answers))
	for i := range answers {
		if _, dup := m[answers[i].QuestionID]; dup {
			replaced++
		}
		m[answers[i].QuestionID] = &answers[i]
	}
	return m, replaced
}

// AsDict indexes answers as the official scripts' {question_id: text}
// dicts do: the last answer for an id counts (replaced counts the others),
// and answers whose id known rejects are never looked up (ignored counts
// them).
func AsDict(answers []Answer, known func(ID) bool) (m map[ID]*Answer, replaced, ignored int) {
	m, replaced = LastByID(answers)
	for id := range m {
		if !known(id) {
			ignored++
		}
	}
	return m, replaced, ignored
}

// Lenience counts what a conversion script reads past without a word:
// answers a later one for the same question replaced, answers to questions
// the ground truth lacks, and lines it could not parse.
type Lenience struct {
	Replaced, Ignored, Skipped int
}

// Warnings words l for the ground truth named truth and the script.
func (l Lenience) Warnings(truth, script string) []string {
	var w []string
	if l.Replaced > 0 {
		w = append(w, fmt.Sprintf("%d answers were replaced by a later answer to the same question (the last one counts, as in %s)", l.Replaced, script))
	}
	if l.Ignored > 0 {
		w = append(w, fmt.Sprintf("%d answers are for questions %s does not have; ignored, as %s ignores them", l.Ignored, truth, script))
	}
	if l.Skipped > 0 {
		w = append(w, fmt.Sprintf("%d lines that are not JSON (or blank) were skipped, as %s skips them", l.Skipped, script))
	}
	return w
}

// UniqueByID indexes answers by question id, refusing duplicates.
func UniqueByID(path string, answers []Answer) (map[ID]*Answer, error) {
	m := make(map[ID]*Answer, len(answers))
	for i := range answers {
		a := &answers[i]
		if prev, dup := m[a.QuestionID]; dup {
			return nil, Errorf(path, a.Line, ErrDuplicate, "question id %v already answered on line %d", a.QuestionID, prev.Line)
		}
		m[a.QuestionID] = a
	}
	return m, nil
}
