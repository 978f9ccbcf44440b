// Package data reads LLaVA instruction records (a JSON list or JSON lines of
// {"id", "image", "conversations": [{"from": "human"|"gpt", "value"}]}) and
// gives each record its task label: the record's own "dataset" field, or the
// first matching rule of a labelling rule file (rules.go).
//
// A subset written back (WriteJSON) holds the input records byte for byte
// (compacted), key order and id types included: records remember where
// their JSON is in the file they were read from.
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
	"sync"
	"time"
	"unicode"

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

	// The record's JSON as read: n bytes at off in src (after white space
	// and separators that json.Compact drops).
	src    *source
	off, n int64
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
			n += fields(t.Value)
		}
	}
	return n
}

// fields is len(strings.Fields(s)) without building the slice.
func fields(s string) int {
	n, in := 0, false
	for _, c := range s {
		switch {
		case unicode.IsSpace(c):
			in = false
		case !in:
			in = true
			n++
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
// human or gpt, every value a string. It streams the file: memory holds the
// parsed records, not the file's bytes (a record's JSON is read again from
// the file when a subset is written).
func Load(path string) ([]Record, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	return parse(path, bufio.NewReaderSize(f, 1<<20), &source{path: path, size: st.Size(), mtime: st.ModTime()})
}

// Parse is Load on bytes already read; name is used in errors. The records
// keep b for their JSON.
func Parse(name string, b []byte) ([]Record, error) {
	return parse(name, bufio.NewReaderSize(bytes.NewReader(b), min(len(b)+16, 1<<20)), &source{b: b})
}

// parse reads the records of br, read from src, whose name is used in errors.
func parse(name string, br *bufio.Reader, src *source) ([]Record, error) {
	first, err := firstByte(br)
	if err != nil {
		return nil, fmt.Errorf("%s: %v", name, err)
	}
	if first < 0 {
		return nil, fmt.Errorf("%s: no records (empty file)", name)
	}
	var recs []Record
	add := func(r Record, msg string, start, end int64) error {
		i := len(recs)
		if msg != "" {
			return &RecordError{File: name, Line: src.line(start), Index: i, Msg: msg}
		}
		r.Index = i
		r.src, r.off, r.n = src, start, end-start
		recs = append(recs, r)
		return nil
	}
	if first == '[' {
		dec := json.NewDecoder(br)
		if _, err := dec.Token(); err != nil {
			return nil, fmt.Errorf("%s: %v", name, err)
		}
		for dec.More() {
			// More leaves the decoder at the separator before the record.
			start := dec.InputOffset() + separator(dec.Buffered())
			var tr typedRecord
			err := dec.Decode(&tr)
			var te *json.UnmarshalTypeError
			switch {
			case errors.As(err, &te):
				// A well-formed record of the wrong shape: read it again to
				// say what is wrong.
				raw, rerr := src.read(start, dec.InputOffset()-start)
				if rerr != nil {
					return nil, rerr
				}
				r, msg := parseRecord(raw)
				if msg == "" {
					msg = err.Error()
				}
				return nil, add(r, msg, start, 0)
			case err != nil:
				return nil, &RecordError{File: name, Line: src.line(syntaxOffset(err, start)), Index: len(recs), Msg: "malformed JSON: " + err.Error()}
			}
			r, msg := tr.record()
			if err := add(r, msg, start, dec.InputOffset()); err != nil {
				return nil, err
			}
		}
		if _, err := dec.Token(); err != nil {
			return nil, fmt.Errorf("%s:%d: malformed JSON list: %v", name, src.line(dec.InputOffset()), err)
		}
	} else {
		sc := bufio.NewScanner(br)
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
			r, msg := decodeRecord(line)
			if err := add(r, msg, start, start+int64(len(line))); err != nil {
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

// separator is the number of bytes of white space and commas r starts with
// (the decoder's unread buffer before a list element).
func separator(r io.Reader) int64 {
	br, ok := r.(io.ByteReader)
	if !ok {
		return 0
	}
	var n int64
	for {
		c, err := br.ReadByte()
		if err != nil || !strings.ContainsRune(" \t\r\n,", rune(c)) {
			return n
		}
		n++
	}
}

// firstByte is the first byte of br after white space and byte order
// marks, or -1 when there is nothing else; br does not advance.
func firstByte(br *bufio.Reader) (int, error) {
	for n := min(512, br.Size()); ; n = min(2*n, br.Size()) {
		b, err := br.Peek(n)
		if t := bytes.TrimLeft(b, " \t\r\n\ufeff"); len(t) > 0 {
			return int(t[0]), nil
		}
		switch {
		case err == io.EOF:
			return -1, nil
		case err != nil:
			return 0, err
		case n == br.Size():
			return 0, fmt.Errorf("nothing but white space in the first %d bytes", n)
		}
	}
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

// typedRecord is a record as encoding/json decodes it in one pass (the
// fast path; parseRecord explains a record that does not fit it).
type typedRecord struct {
	ID            json.RawMessage `json:"id"`
	Image         *string         `json:"image"`
	Conversations []turnJSON      `json:"conversations"`
	Dataset       *string         `json:"dataset"`
}

// turnJSON is one turn as decoded; nil fields are missing.
type turnJSON struct {
	From  *string `json:"from"`
	Value *string `json:"value"`
}

// record checks tr as parseRecord checks a record; msg is non-empty when it
// is malformed.
func (tr *typedRecord) record() (Record, string) {
	var r Record
	if msg := setID(&r, tr.ID); msg != "" {
		return r, msg
	}
	if tr.Image != nil {
		r.Image = *tr.Image
	}
	if tr.Dataset != nil {
		r.Dataset = *tr.Dataset
	}
	if len(tr.Conversations) == 0 {
		return r, `"conversations" is missing or empty`
	}
	r.Conversations = make([]Turn, len(tr.Conversations))
	for j, t := range tr.Conversations {
		if t.From == nil || t.Value == nil {
			return r, fmt.Sprintf(`conversations[%d]: want {"from": "human"|"gpt", "value": string}`, j)
		}
		switch *t.From {
		case "human": // the constants, not a copy per turn
			r.Conversations[j] = Turn{"human", *t.Value}
		case "gpt":
			r.Conversations[j] = Turn{"gpt", *t.Value}
		default:
			return r, fmt.Sprintf(`conversations[%d].from is %q (want "human" or "gpt")`, j, *t.From)
		}
	}
	return r, ""
}

// setID sets r.ID from the raw "id"; msg is non-empty when it is not a
// string or a number.
func setID(r *Record, id json.RawMessage) string {
	switch {
	case len(id) == 0 || string(id) == "null":
		return `missing "id"`
	case id[0] == '"':
		json.Unmarshal(id, &r.ID)
	case id[0] >= '0' && id[0] <= '9' || id[0] == '-':
		r.ID = string(id)
	default:
		return fmt.Sprintf(`"id" is %s (want a string or a number)`, id)
	}
	return ""
}

// decodeRecord decodes one record's JSON; msg is non-empty when it is
// malformed.
func decodeRecord(raw []byte) (Record, string) {
	var tr typedRecord
	if err := json.Unmarshal(raw, &tr); err != nil {
		return parseRecord(raw)
	}
	return tr.record()
}

// parseRecord decodes raw field by field, to say what is wrong with a
// record; msg is non-empty when it is malformed.
func parseRecord(raw json.RawMessage) (Record, string) {
	var rr rawRecord
	if err := json.Unmarshal(raw, &rr); err != nil {
		return Record{}, "not a record object: " + err.Error()
	}
	tr := typedRecord{ID: rr.ID, Image: rr.Image, Dataset: rr.Dataset, Conversations: make([]turnJSON, len(rr.Conversations))}
	for j, c := range rr.Conversations {
		if json.Unmarshal(c, &tr.Conversations[j]) != nil {
			tr.Conversations[j] = turnJSON{} // no {"from", "value"} of strings: record says so
		}
	}
	return tr.record()
}

// source is what records were read from: a file, or bytes in memory.
type source struct {
	path  string // the file, when b is nil, and its size and time when read
	size  int64
	mtime time.Time
	b     []byte

	mu     sync.Mutex
	starts []int64 // line start offsets, computed on the first error
}

// line is the 1-based line of byte offset off, 0 when the source cannot be
// read again.
func (s *source) line(off int64) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.starts == nil {
		r := io.Reader(bytes.NewReader(s.b))
		if s.b == nil {
			f, err := os.Open(s.path)
			if err != nil {
				return 0
			}
			defer f.Close()
			r = f
		}
		s.starts = []int64{0}
		br := bufio.NewReaderSize(r, 1<<20)
		for pos := int64(0); ; {
			chunk, err := br.ReadSlice('\n')
			pos += int64(len(chunk))
			if len(chunk) > 0 && chunk[len(chunk)-1] == '\n' {
				s.starts = append(s.starts, pos)
			}
			if err != nil && err != bufio.ErrBufferFull {
				break
			}
		}
	}
	lo, hi := 0, len(s.starts)
	for lo+1 < hi {
		m := (lo + hi) / 2
		if s.starts[m] <= off {
			lo = m
		} else {
			hi = m
		}
	}
	return lo + 1
}

// open opens the file again, failing if it changed since it was read.
func (s *source) open() (*os.File, error) {
	f, err := os.Open(s.path)
	if err != nil {
		return nil, err
	}
	st, err := f.Stat()
	if err == nil && (st.Size() != s.size || !st.ModTime().Equal(s.mtime)) {
		err = fmt.Errorf("%s changed since its records were read", s.path)
	}
	if err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}

// read returns n bytes at off of the source.
func (s *source) read(off, n int64) ([]byte, error) {
	if s.b != nil {
		return s.b[off : off+n], nil
	}
	f, err := s.open()
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return readAt(f, s.path, off, n)
}

func readAt(f *os.File, path string, off, n int64) ([]byte, error) {
	b := make([]byte, n)
	if _, err := f.ReadAt(b, off); err != nil {
		return nil, fmt.Errorf("%s: %v", path, err)
	}
	return b, nil
}

// RawJSON is the record's JSON as read, compacted. A record read by Load
// reads it from its file again and fails if the file changed since. A
// record made in memory (not read from JSON) is written in LLaVA's form:
// id, image (when set), conversations, dataset (when set).
func (r *Record) RawJSON() ([]byte, error) {
	var f *os.File
	if r.src != nil && r.src.b == nil {
		var err error
		if f, err = r.src.open(); err != nil {
			return nil, err
		}
		defer f.Close()
	}
	return r.rawFrom(f)
}

// llavaRecord is a record made in memory as RawJSON writes it.
type llavaRecord struct {
	ID            string `json:"id"`
	Image         string `json:"image,omitempty"`
	Conversations []Turn `json:"conversations"`
	Dataset       string `json:"dataset,omitempty"`
}

// rawFrom is RawJSON with the record's file already open (nil for bytes).
func (r *Record) rawFrom(f *os.File) ([]byte, error) {
	var raw []byte
	switch {
	case r.src == nil:
		return json.Marshal(llavaRecord{ID: r.ID, Image: r.Image, Conversations: r.Conversations, Dataset: r.Dataset})
	case r.src.b != nil:
		raw = r.src.b[r.off : r.off+r.n]
	default:
		var err error
		if raw, err = readAt(f, r.src.path, r.off, r.n); err != nil {
			return nil, err
		}
	}
	var buf bytes.Buffer
	if err := json.Compact(&buf, raw); err != nil {
		return nil, fmt.Errorf("record %d: %v", r.Index, err)
	}
	return buf.Bytes(), nil
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

// EncodeJSON writes the records at idx as a JSON list, one record per line,
// each as RawJSON gives it.
func EncodeJSON(w io.Writer, recs []Record, idx []int) error {
	files := map[*source]*os.File{}
	defer func() {
		for _, f := range files {
			f.Close()
		}
	}()
	bw := bufio.NewWriter(w)
	bw.WriteString("[")
	for k, i := range idx {
		r := &recs[i]
		f, ok := files[r.src]
		if !ok && r.src != nil && r.src.b == nil {
			var err error
			if f, err = r.src.open(); err != nil {
				return err
			}
			files[r.src] = f
		}
		raw, err := r.rawFrom(f)
		if err != nil {
			return err
		}
		if k > 0 {
			bw.WriteString(",")
		}
		bw.WriteString("\n")
		bw.Write(raw)
	}
	bw.WriteString("\n]\n")
	return bw.Flush()
}
