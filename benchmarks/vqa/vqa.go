// Package vqa implements the VQA answer normalisers and the VQA soft accuracy
// used by TextVQA, VQAv2 and VizWiz, bit for bit as the official Python code.
//
// Three normalisers exist, and the differences move scores:
//
//   - Normalize is LLaVA's m4c EvalAIAnswerProcessor: lower-case, delete ','
//     and '?', split "'s" into " 's", then punctuation, periods, number words,
//     articles and contractions. TextVQA applies it to predictions and ground
//     truth; LLaVA applies it to VQAv2 and VizWiz predictions before upload.
//   - ProcessPunctuation followed by ProcessDigitArticle is the official
//     GT-Vision-Lab vqaEval.py normaliser (no comma/'?' deletion, no "'s"
//     split).
//   - VizWizDigitArticle is the VizWiz evaluator's variant, whose contraction
//     map uses U+2019 apostrophes.
//
// All of them remove periods with the regex `\.(?!\d)` called with count
// re.UNICODE = 32, so only the first 32 such periods are removed.
//
// The soft accuracy of a prediction against the ground-truth answers gt_1..gt_n
// (n = 10) is the mean over the n leave-one-out subsets:
//
//	acc(pred) = 1/n * sum_i min(1, #{j != i : gt_j == pred} / 3)
//
// summed in ground-truth order, as the Python code does.
package vqa

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// punctuation is the 21 characters the VQA normalisers space out or delete.
const punctuation = ";/[]\"{}()=+\\_-><@`,?!"

// punct lists the punctuation characters in the official order.
var punct = []string{";", "/", "[", "]", "\"", "{", "}", "(", ")", "=", "+", "\\", "_", "-", ">", "<", "@", "`", ",", "?", "!"}

// periodCount is the count argument re.sub receives: re.UNICODE == 32.
const periodCount = 32

// IsSpace reports whether r is whitespace for Python's str.split and
// str.strip: Go's unicode.IsSpace plus the separators U+001C..U+001F.
func IsSpace(r rune) bool {
	return unicode.IsSpace(r) || (r >= 0x1c && r <= 0x1f)
}

// Strip is Python's str.strip() with no arguments.
func Strip(s string) string { return strings.TrimFunc(s, IsSpace) }

// Split is Python's str.split() with no arguments.
func Split(s string) []string { return strings.FieldsFunc(s, IsSpace) }

// Normalize is LLaVA's m4c EvalAIAnswerProcessor.__call__.
func Normalize(s string) string {
	// word_tokenize
	s = strings.ToLower(s)
	if strings.ContainsAny(s, ",?") {
		s = strings.Map(func(r rune) rune {
			if r == ',' || r == '?' {
				return -1
			}
			return r
		}, s)
	}
	if strings.Contains(s, "'s") {
		s = strings.ReplaceAll(s, "'s", " 's")
	}
	s = Strip(s)
	if strings.ContainsAny(s, "\n\t") {
		s = strings.ReplaceAll(s, "\n", " ")
		s = strings.ReplaceAll(s, "\t", " ")
		s = Strip(s)
	}
	s = punctuate(s, digitCommasDigit(s))
	return digitArticle(s, contractions)
}

// ProcessPunctuation is vqaEval.py's processPunctuation: each punctuation
// character is deleted if it touches a space in the input, or if the input
// has a digit-comma-digit, and replaced by a space otherwise; then the first
// 32 periods not followed by a digit are removed.
func ProcessPunctuation(s string) string {
	return punctuate(s, digitCommaDigit(s))
}

// ProcessDigitArticle is vqaEval.py's processDigitArticle: lower-case, split
// on whitespace, map number words to digits, drop articles, expand
// contractions, join with single spaces.
func ProcessDigitArticle(s string) string { return digitArticle(s, contractions) }

// VizWizDigitArticle is ProcessDigitArticle with the VizWiz evaluator's
// contraction map, whose apostrophes are mostly U+2019.
func VizWizDigitArticle(s string) string { return digitArticle(s, vizwizContractions) }

func punctuate(in string, commaRule bool) string {
	if !strings.ContainsAny(in, punctuation) {
		return stripPeriods(in)
	}
	// Replacing one punctuation character never adds or removes another, and
	// every test looks at the input, so one pass equals the Python loop.
	var touches [128]bool // p+" " in in, or " "+p in in
	for i := 0; i < len(in); i++ {
		if c := in[i]; c < 128 && isPunct[c] {
			if (i+1 < len(in) && in[i+1] == ' ') || (i > 0 && in[i-1] == ' ') {
				touches[c] = true
			}
		}
	}
	b := make([]byte, 0, len(in))
	for i := 0; i < len(in); i++ {
		c := in[i]
		switch {
		case c >= 128 || !isPunct[c]:
			b = append(b, c)
		case commaRule || touches[c]:
			// deleted
		default:
			b = append(b, ' ')
		}
	}
	return stripPeriods(string(b))
}

var isPunct = func() (t [128]bool) {
	for _, c := range []byte(punctuation) {
		t[c] = true
	}
	return
}()

// stripPeriods removes the first 32 periods that are not followed by a
// (Unicode) decimal digit: re.sub(r"(?!<=\d)(\.)(?!\d)", "", s, 32).
func stripPeriods(s string) string {
	if strings.IndexByte(s, '.') < 0 {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	removed := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '.' && removed < periodCount {
			next, _ := utf8.DecodeRuneInString(s[i+1:])
			if i+1 == len(s) || !unicode.IsDigit(next) {
				removed++
				continue
			}
		}
		b.WriteByte(c)
	}
	return b.String()
}

// digitCommaDigit reports whether s matches (\d)(\,)(\d).
func digitCommaDigit(s string) bool {
	for i := strings.IndexByte(s, ','); i >= 0; {
		if digitBefore(s[:i]) && digitAfter(s[i+1:]) {
			return true
		}
		j := strings.IndexByte(s[i+1:], ',')
		if j < 0 {
			break
		}
		i += 1 + j
	}
	return false
}

// digitCommasDigit reports whether s matches (?<=\d)(\,)+(?=\d).
func digitCommasDigit(s string) bool {
	for i := strings.IndexByte(s, ','); i >= 0; {
		j := i
		for j < len(s) && s[j] == ',' {
			j++
		}
		if digitBefore(s[:i]) && digitAfter(s[j:]) {
			return true
		}
		k := strings.IndexByte(s[j:], ',')
		if k < 0 {
			break
		}
		i = j + k
	}
	return false
}

func digitBefore(s string) bool {
	r, _ := utf8.DecodeLastRuneInString(s)
	return s != "" && unicode.IsDigit(r)
}

func digitAfter(s string) bool {
	r, _ := utf8.DecodeRuneInString(s)
	return s != "" && unicode.IsDigit(r)
}

func digitArticle(s string, contr map[string]string) string {
	s = strings.ToLower(s)
	// Tokenise on Python whitespace, map and drop words, and join with
	// single spaces; return s itself when nothing changes.
	var b []byte
	changed := false
	n := 0 // words written
	for i := 0; i < len(s); {
		// Skip whitespace.
		j := i
		for j < len(s) {
			r, size := rune(s[j]), 1
			if r >= utf8.RuneSelf {
				r, size = utf8.DecodeRuneInString(s[j:])
			}
			if !IsSpace(r) {
				break
			}
			j += size
		}
		if j == len(s) {
			if j != i {
				changed = true
			}
			break
		}
		if (n == 0 && j != i) || (n > 0 && (j-i != 1 || s[i] != ' ')) {
			changed = true
		}
		// Read a word.
		k := j
		for k < len(s) {
			r, size := rune(s[k]), 1
			if r >= utf8.RuneSelf {
				r, size = utf8.DecodeRuneInString(s[k:])
			}
			if IsSpace(r) {
				break
			}
			k += size
		}
		w := s[j:k]
		i = k
		out, keep := mapWord(w, contr)
		if !keep || out != w {
			changed = true
		}
		if !keep {
			continue
		}
		if n > 0 {
			b = append(b, ' ')
		}
		b = append(b, out...)
		n++
	}
	if !changed {
		return s
	}
	return string(b)
}

// mapWord applies the number map, the article filter and the contraction
// map to one word.
func mapWord(w string, contr map[string]string) (string, bool) {
	switch w {
	case "a", "an", "the":
		return "", false
	case "none", "zero":
		return "0", true
	case "one":
		return "1", true
	case "two":
		return "2", true
	case "three":
		return "3", true
	case "four":
		return "4", true
	case "five":
		return "5", true
	case "six":
		return "6", true
	case "seven":
		return "7", true
	case "eight":
		return "8", true
	case "nine":
		return "9", true
	case "ten":
		return "10", true
	}
	if len(w) >= 3 {
		if c, ok := contr[w]; ok {
			return c, true
		}
	}
	return w, true
}

// Accuracy is the VQA soft accuracy of pred against gt (already normalised
// as the caller's evaluator requires), summed in gt order as the Python code
// does. It returns 0 for an empty gt.
func Accuracy(pred string, gt []string) float64 {
	if len(gt) == 0 {
		return 0
	}
	k := 0
	for _, g := range gt {
		if g == pred {
			k++
		}
	}
	if k == 0 {
		return 0
	}
	sum := 0.0
	for _, g := range gt {
		m := k
		if g == pred {
			m--
		}
		sum += min(1, float64(m)/3)
	}
	return sum / float64(len(gt))
}

// OfficialAccuracy is one question of GT-Vision-Lab vqaEval.py (the VQAv2
// server): newlines and tabs become spaces and both sides are stripped; the
// prediction and the ground truth are normalised only if the ground-truth
// answers are not all identical; then Accuracy.
func OfficialAccuracy(pred string, gt []string) float64 {
	pred, gt = OfficialPrepare(pred, gt)
	return Accuracy(pred, gt)
}

// OfficialPrepare is vqaEval.py's answer preparation for one question: it
// returns the prediction and a new slice of ground-truth answers, cleaned
// and, unless all ground-truth answers are identical, normalised.
func OfficialPrepare(pred string, gt []string) (string, []string) {
	pred = cleanVQA(pred)
	g := make([]string, len(gt))
	same := true
	for i, a := range gt {
		g[i] = cleanVQA(a)
		if g[i] != g[0] {
			same = false
		}
	}
	if !same {
		for i := range g {
			g[i] = ProcessDigitArticle(ProcessPunctuation(g[i]))
		}
		pred = ProcessDigitArticle(ProcessPunctuation(pred))
	}
	return pred, g
}

// VizWizAccuracy is one question of the VizWiz vqaEval.py (Qing Li): the
// prediction is cleaned, punctuation-processed and digit/article-processed
// with the curly-apostrophe contraction map; the ground truth is used raw.
func VizWizAccuracy(pred string, gt []string) float64 {
	pred = VizWizDigitArticle(ProcessPunctuation(cleanVQA(pred)))
	return Accuracy(pred, gt)
}

func cleanVQA(s string) string {
	s = strings.ReplaceAll(s, "\n", " ")
	s = strings.ReplaceAll(s, "\t", " ")
	return Strip(s)
}

// vizwizContractions is the VizWiz evaluator's map: the VQA map with U+2019
// in every key except "couldn'tve" and "hadn'tve", and in every value except
// those of aint, arent, cant, couldve, couldnt, weve, wheres and whove.
var vizwizContractions = func() map[string]string {
	straightKey := map[string]bool{"couldn'tve": true, "hadn'tve": true}
	straightVal := map[string]bool{"aint": true, "arent": true, "cant": true, "couldve": true,
		"couldnt": true, "weve": true, "wheres": true, "whove": true}
	m := make(map[string]string, len(contractions))
	for k, v := range contractions {
		nk, nv := k, v
		if !straightKey[k] {
			nk = strings.ReplaceAll(k, "'", "\u2019")
		}
		if !straightVal[k] {
			nv = strings.ReplaceAll(v, "'", "\u2019")
		}
		m[nk] = nv
	}
	return m
}()
