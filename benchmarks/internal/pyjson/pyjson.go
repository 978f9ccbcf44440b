// Package pyjson writes JSON the way Python's json.dumps does with its
// defaults (", " and ": " separators, ensure_ascii), so exported upload
// files are byte-identical to LLaVA's.
package pyjson

import (
	"fmt"
	"strings"
	"unicode/utf16"
)

// Quote is json.dumps(s) for a str.
func Quote(s string) string {
	var b strings.Builder
	b.Grow(len(s) + 2)
	b.WriteByte('"')
	for _, r := range s {
		switch r {
		case '"':
			b.WriteString(`\"`)
		case '\\':
			b.WriteString(`\\`)
		case '\n':
			b.WriteString(`\n`)
		case '\r':
			b.WriteString(`\r`)
		case '\t':
			b.WriteString(`\t`)
		case '\b':
			b.WriteString(`\b`)
		case '\f':
			b.WriteString(`\f`)
		default:
			switch {
			case r < 0x20 || (r >= 0x7f && r <= 0xffff):
				fmt.Fprintf(&b, `\u%04x`, r)
			case r > 0xffff:
				r1, r2 := utf16.EncodeRune(r)
				fmt.Fprintf(&b, `\u%04x\u%04x`, r1, r2)
			default:
				b.WriteRune(r)
			}
		}
	}
	b.WriteByte('"')
	return b.String()
}

// A Pair is one key and its already-encoded JSON value.
type Pair struct {
	Key   string
	Value string
}

// Object is json.dumps of a dict with the pairs in order.
func Object(pairs ...Pair) string {
	var b strings.Builder
	b.WriteByte('{')
	for i, p := range pairs {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(Quote(p.Key))
		b.WriteString(": ")
		b.WriteString(p.Value)
	}
	b.WriteByte('}')
	return b.String()
}
