package world

import (
	"bytes"
	"encoding/json"
	"fmt"
	"image"
	"math"
	"math/rand/v2"
	"regexp"
	"strconv"
	"strings"
)

// A Turn is one message of a LLaVA conversation.
type Turn struct {
	From  string `json:"from"`
	Value string `json:"value"`
}

// A Record is one training record in LLaVA JSON. ID is a string, except for
// gqa records whose id is a JSON number as in LLaVA-665K. Image is relative
// to DIR/images and absent for text-only records. Model is "" on sharegpt
// records only. Dataset is the source label (absent on pretraining
// captions). DupGroup is the hidden ground truth of planted redundancy:
// records sharing a value are copies (see Redundancy); absent otherwise.
type Record struct {
	ID            any     `json:"id"`
	Image         string  `json:"image,omitempty"`
	Conversations []Turn  `json:"conversations"`
	Model         *string `json:"model,omitempty"`
	Dataset       string  `json:"dataset,omitempty"`
	DupGroup      string  `json:"dup_group,omitempty"`
}

// qa builds a conversation from question/answer pairs. The first question
// gets the image token (prefix "<image>\n" or, with suffix, "\n<image>") and
// the response-format hint on its own line, if any.
func qa(pairs [][2]string, hint string, suffix bool) []Turn {
	var t []Turn
	for i, p := range pairs {
		q := p[0]
		if i == 0 {
			if hint != "" {
				q += "\n" + hint
			}
			if suffix {
				q += "\n<image>"
			} else {
				q = "<image>\n" + q
			}
		}
		t = append(t, Turn{"human", q}, Turn{"gpt", p[1]})
	}
	return t
}

const (
	shortHint = "Answer the question using a single word or phrase."
	mcHint    = "Answer with the option's letter from the given choices directly."
)

// fmtCoord writes a 0-1 coordinate with at most 2 decimals and trailing
// zeros dropped, keeping one decimal (0.4, 1.0, 0.0), as LLaVA-665K does.
func fmtCoord(v float64) string {
	v = math.Round(v*100) / 100
	s := strconv.FormatFloat(v, 'f', -1, 64)
	if !strings.Contains(s, ".") {
		s += ".0"
	}
	return s
}

// fmtBox writes a pixel box as [x1, y1, x2, y2] in 0-1 coordinates of a
// size×size image (square, so padding to a square changes nothing).
func fmtBox(b image.Rectangle, size int) string {
	f := float64(size)
	return fmt.Sprintf("[%s, %s, %s, %s]", fmtCoord(float64(b.Min.X)/f), fmtCoord(float64(b.Min.Y)/f),
		fmtCoord(float64(b.Max.X)/f), fmtCoord(float64(b.Max.Y)/f))
}

// marshal encodes v as JSON without HTML escaping, so "<image>" stays
// literal as in LLaVA's files; indent "" means compact. No trailing newline.
func marshal(v any, indent string) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", indent)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

// boxRE matches a box written by fmtBox.
var boxRE = regexp.MustCompile(`\[(-?[0-9.]+), (-?[0-9.]+), (-?[0-9.]+), (-?[0-9.]+)\]`)

// ids hands out increasing, seed-dependent image numbers per namespace.
type ids struct{ next map[string]int }

func (d *ids) take(r *rand.Rand, ns string, start int) int {
	if d.next == nil {
		d.next = map[string]int{}
	}
	n, ok := d.next[ns]
	if !ok {
		n = start + r.IntN(start/10+1)
	}
	n += 1 + r.IntN(37)
	d.next[ns] = n
	return n
}

const alnum = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"

func randString(r *rand.Rand, n int, chars string) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = chars[r.IntN(len(chars))]
	}
	return string(b)
}
