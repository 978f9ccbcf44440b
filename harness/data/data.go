// Package data reads LLaVA instruction records (a JSON list or JSON lines of
// {"id", "image", "conversations": [{"from": "human"|"gpt", "value"}]}) and
// gives each record its task label: the record's own "dataset" field, or the
// first matching rule of a labelling rule file (rules.go).
//
// Records keep their raw JSON, so a subset written back (WriteJSON) holds the
// input records byte for byte (compacted), key order and id types included.
package data

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/tive-dev/tive/harness/atomic"
)

// Turn is one message of a conversation.
type Turn struct {
	From  string `json:"from"`
	Value string `json:"value"`
}

// Record is one instruction-tuning example.
type Record struct {
	Index         int    // position in the input file, from 0
	ID            string // the id as written (a GQA number is its digits)
	Image         string // image path, "" when absent (text-only)
	Conversations []Turn
	Dataset       string // the "dataset" field, "" when absent
	Task          string // the task label used by selection (Dataset, or a rule's label)
	Raw           json.RawMessage
}

// HasImage reports whether the record refers to an image.
func (r *Record) HasImage() bool { return r.Image != "" }

// Pairs is the number of (human, gpt) exchanges: len(Conversations)/2.
func (r *Record) Pairs() int { return len(r.Conversations) / 2 }

// ResponseWords is the number of whitespace-separated words over all gpt turns.
func (r *Record) ResponseWords() int {
	n := 0
	for _, t := range r.Conversations {
		if t.From == "gpt" {
			n += len(strings.Fields(t.Value))
		}
	}
	return n
}

// FirstHuman is the first human value with every "<image>" removed and
// surrounding whitespace stripped (H0 of reference/llava665k.md §6).
func (r *Record) FirstHuman() string {
	for _, t := range r.Conversations {
		if t.From == "human" {
			return strings.TrimSpace(strings.ReplaceAll(t.Value, "<image>", ""))
		}
	}
	return ""
}

// RecordError is a problem with one record: the file, the record's index and
// the line it starts on.
type RecordError struct {
	File  string
	Line  int // 1-based line where the record starts; 0 if unknown
	Index int // record index from 0
	Msg   string
}

func (e *RecordError) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("%s:%d: record %d: %s", e.File, e.Line, e.Index, e.Msg)
	}
	return fmt.Sprintf("%s: record %d: %s", e.File, e.Index, e.Msg)
}

// Load reads the records of path, a JSON list (first non-space byte '[') or
// JSON lines, and validates each: conversations non-empty, every from is
// human or gpt, every value a string.
func Load(path string) ([]Record, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return Parse(path, b)
}

// Parse is Load on bytes already read; name is used in errors.
func Parse(name string, b []byte) ([]Record, error) {
	lines := lineIndex{b: b}
	trim := bytes.TrimLeft(b, " \t\r\n\ufeff")
	if len(trim) == 0 {
		return nil, fmt.Errorf("%s: no records (empty file)", name)
	}
	var recs []Record
	add := func(raw json.RawMessage, start int64) error {
		i := len(recs)
		r, msg := parseRecord(raw)
		if msg != "" {
			return &RecordError{File: name, Line: lines.line(start), Index: i, Msg: msg}
		}
		r.Index = i
		recs = append(recs, r)
		return nil
	}
	if trim[0] == '[' {
		dec := json.NewDecoder(bytes.NewReader(b))
		if _, err := dec.Token(); err != nil {
			return nil, fmt.Errorf("%s: %v", name, err)
		}
		for dec.More() {
			var raw json.RawMessage
			// InputOffset before Decode points at the separator; skip it.
			start := dec.InputOffset()
			start += int64(len(b[start:]) - len(bytes.TrimLeft(b[start:], " \t\r\n,")))
			if err := dec.Decode(&raw); err != nil {
				return nil, &RecordError{File: name, Line: lines.line(syntaxOffset(err, start)), Index: len(recs), Msg: "malformed JSON: " + err.Error()}
			}
			if err := add(raw, start); err != nil {
				return nil, err
			}
		}
		if _, err := dec.Token(); err != nil {
			return nil, fmt.Errorf("%s:%d: malformed JSON list: %v", name, lines.line(dec.InputOffset()), err)
		}
	} else {
		sc := bufio.NewScanner(bytes.NewReader(b))
		sc.Buffer(make([]byte, 0, 1<<20), 1<<30)
		var off int64
		for ln := 1; sc.Scan(); ln++ {
			line := sc.Bytes()
			start := off
			off += int64(len(line)) + 1
			if len(bytes.TrimSpace(line)) == 0 {
				continue
			}
			if !json.Valid(line) {
				return nil, &RecordError{File: name, Line: ln, Index: len(recs), Msg: "malformed JSON line"}
			}
			if err := add(append(json.RawMessage(nil), line...), start); err != nil {
				return nil, err
			}
		}
		if err := sc.Err(); err != nil {
			return nil, fmt.Errorf("%s: %v", name, err)
		}
	}
	if len(recs) == 0 {
		return nil, fmt.Errorf("%s: no records", name)
	}
	return recs, nil
}

func syntaxOffset(err error, def int64) int64 {
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return se.Offset
	}
	return def
}

type rawRecord struct {
	ID            json.RawMessage   `json:"id"`
	Image         *string           `json:"image"`
	Conversations []json.RawMessage `json:"conversations"`
	Dataset       *string           `json:"dataset"`
}

// parseRecord decodes raw; msg is non-empty when the record is malformed.
func parseRecord(raw json.RawMessage) (Record, string) {
	var rr rawRecord
	if err := json.Unmarshal(raw, &rr); err != nil {
		return Record{}, "not a record object: " + err.Error()
	}
	r := Record{Raw: compact(raw)}
	switch {
	case len(rr.ID) == 0 || string(rr.ID) == "null":
		return r, `missing "id"`
	case rr.ID[0] == '"':
		json.Unmarshal(rr.ID, &r.ID)
	case rr.ID[0] >= '0' && rr.ID[0] <= '9' || rr.ID[0] == '-':
		r.ID = string(rr.ID)
	default:
		return r, fmt.Sprintf(`"id" is %s (want a string or a number)`, rr.ID)
	}
	if rr.Image != nil {
		r.Image = *rr.Image
	}
	if rr.Dataset != nil {
		r.Dataset = *rr.Dataset
	}
	if len(rr.Conversations) == 0 {
		return r, `"conversations" is missing or empty`
	}
	for j, c := range rr.Conversations {
		var t struct {
			From  *string `json:"from"`
			Value *string `json:"value"`
		}
		if err := json.Unmarshal(c, &t); err != nil || t.From == nil || t.Value == nil {
			return r, fmt.Sprintf(`conversations[%d]: want {"from": "human"|"gpt", "value": string}`, j)
		}
		if *t.From != "human" && *t.From != "gpt" {
			return r, fmt.Sprintf(`conversations[%d].from is %q (want "human" or "gpt")`, j, *t.From)
		}
		r.Conversations = append(r.Conversations, Turn{From: *t.From, Value: *t.Value})
	}
	return r, ""
}

func compact(raw json.RawMessage) json.RawMessage {
	var buf bytes.Buffer
	if err := json.Compact(&buf, raw); err != nil {
		return raw
	}
	return buf.Bytes()
}

// lineIndex maps byte offsets to 1-based line numbers, lazily.
type lineIndex struct {
	b      []byte
	starts []int64
}

func (li *lineIndex) line(off int64) int {
	if li.starts == nil {
		li.starts = []int64{0}
		for i, c := range li.b {
			if c == '\n' {
				li.starts = append(li.starts, int64(i+1))
			}
		}
	}
	lo, hi := 0, len(li.starts)
	for lo+1 < hi {
		m := (lo + hi) / 2
		if li.starts[m] <= off {
			lo = m
		} else {
			hi = m
		}
	}
	return lo + 1
}

// Labeler assigns task labels; see Rules.
type Labeler interface {
	Label(r *Record) (string, error)
}

// AssignTasks sets every record's Task: from lab when it is not nil,
// otherwise from the record's "dataset" field, which must then be present.
func AssignTasks(file string, recs []Record, lab Labeler) error {
	for i := range recs {
		r := &recs[i]
		if lab != nil {
			t, err := lab.Label(r)
			if err != nil {
				return &RecordError{File: file, Index: r.Index, Msg: err.Error()}
			}
			r.Task = t
			continue
		}
		if r.Dataset == "" {
			return &RecordError{File: file, Index: r.Index, Msg: `no "dataset" field (give a labelling rule file, e.g. labels: llava665k, to label records without one)`}
		}
		r.Task = r.Dataset
	}
	return nil
}

// Tasks lists the distinct task labels in order of first appearance.
func Tasks(recs []Record) []string {
	seen := map[string]bool{}
	var out []string
	for i := range recs {
		if t := recs[i].Task; !seen[t] {
			seen[t] = true
			out = append(out, t)
		}
	}
	return out
}

// WriteJSON atomically writes the records at idx (repeats allowed, in that
// order) as a LLaVA JSON list, one record per line.
func WriteJSON(path string, recs []Record, idx []int) error {
	return atomic.Write(path, 0o644, func(w io.Writer) error {
		return EncodeJSON(w, recs, idx)
	})
}

// EncodeJSON writes the records at idx as a JSON list, one record per line.
func EncodeJSON(w io.Writer, recs []Record, idx []int) error {
	bw := bufio.NewWriter(w)
	bw.WriteString("[")
	for k, i := range idx {
		if k > 0 {
			bw.WriteString(",")
		}
		bw.WriteString("\n")
		bw.Write(recs[i].Raw)
	}
	bw.WriteString("\n]\n")
	return bw.Flush()
}
