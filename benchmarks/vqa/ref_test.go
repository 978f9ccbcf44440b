package vqa

import (
	"strings"
	"testing"
	"unicode"
)

// The reference normalisers below transcribe the Python line by line; the
// optimised ones must agree with them on every input (see FuzzNormalize).

var refNumbers = map[string]string{
	"none": "0", "zero": "0", "one": "1", "two": "2", "three": "3", "four": "4",
	"five": "5", "six": "6", "seven": "7", "eight": "8", "nine": "9", "ten": "10",
}

func refPunctuate(in string, commaRule bool) string {
	out := in
	for _, p := range punct {
		if strings.Contains(in, p+" ") || strings.Contains(in, " "+p) || commaRule {
			out = strings.ReplaceAll(out, p, "")
		} else {
			out = strings.ReplaceAll(out, p, " ")
		}
	}
	// re.sub(r"(?!<=\d)(\.)(?!\d)", "", out, 32)
	r := []rune(out)
	var b strings.Builder
	removed := 0
	for i, c := range r {
		if c == '.' && removed < 32 && (i+1 == len(r) || !unicode.IsDigit(r[i+1])) {
			removed++
			continue
		}
		b.WriteRune(c)
	}
	return b.String()
}

func refDigitArticle(in string, contr map[string]string) string {
	var out []string
	for _, w := range Split(strings.ToLower(in)) {
		if n, ok := refNumbers[w]; ok {
			w = n
		}
		if w != "a" && w != "an" && w != "the" {
			out = append(out, w)
		}
	}
	for i, w := range out {
		if c, ok := contr[w]; ok {
			out[i] = c
		}
	}
	return strings.Join(out, " ")
}

func refNormalize(s string) string {
	s = strings.ToLower(s)
	s = strings.ReplaceAll(s, ",", "")
	s = strings.ReplaceAll(s, "?", "")
	s = strings.ReplaceAll(s, "'s", " 's")
	s = Strip(s)
	s = strings.ReplaceAll(s, "\n", " ")
	s = strings.ReplaceAll(s, "\t", " ")
	s = Strip(s)
	s = refPunctuate(s, digitCommasDigit(s))
	return refDigitArticle(s, contractions)
}

func checkAgainstReference(t *testing.T, s string) {
	t.Helper()
	if got, want := Normalize(s), refNormalize(s); got != want {
		t.Fatalf("Normalize(%q) = %q, reference %q", s, got, want)
	}
	if got, want := ProcessPunctuation(s), refPunctuate(s, digitCommaDigit(s)); got != want {
		t.Fatalf("ProcessPunctuation(%q) = %q, reference %q", s, got, want)
	}
	if got, want := ProcessDigitArticle(s), refDigitArticle(s, contractions); got != want {
		t.Fatalf("ProcessDigitArticle(%q) = %q, reference %q", s, got, want)
	}
	if got, want := VizWizDigitArticle(s), refDigitArticle(s, vizwizContractions); got != want {
		t.Fatalf("VizWizDigitArticle(%q) = %q, reference %q", s, got, want)
	}
}

func TestAgainstReference(t *testing.T) {
	extra := []string{" a  b ", "x -y", "(a)(b)", "3.-5", "a\u00a0the\u2003one", "\x1ftwo\x1f", "ÉTÉ, été?", "Ω.5", "a.b.c. d"}
	for _, tt := range normTable {
		checkAgainstReference(t, tt.in)
	}
	for _, s := range extra {
		checkAgainstReference(t, s)
	}
}
