package vqa

import (
	"strings"
	"testing"
)

// The normalisation table of scoring.md §1.4: input, m4c, official vqaEval.
var normTable = []struct{ in, m4c, official string }{
	{"Yes.", "yes", "yes"},
	{"The cat.", "cat", "cat"},
	{"two dogs", "2 dogs", "2 dogs"},
	{"None", "0", "0"},
	{"3.5", "3.5", "3.5"},
	{"1,000", "1000", "1000"},
	{"red,blue", "redblue", "red blue"},
	{"red, blue", "red blue", "red blue"},
	{"What's that?", "what 's that", "what's that"},
	{"a man's hat", "man 's hat", "man's hat"},
	{"Dont", "don't", "don't"},
	{"t-shirt", "t shirt", "t shirt"},
	{"Coca-Cola", "coca cola", "coca cola"},
	{"(left)", "left", "left"},
	{"left (top)", "left top", "left top"},
	{"10:30", "10:30", "10:30"},
	{"50%", "50%", "50%"},
	{"$5.00", "$5.00", "$5.00"},
	{"Mr. Smith", "mr smith", "mr smith"},
	{"U.S.A.", "usa", "usa"},
	{"e.g. this", "eg this", "eg this"},
	{"A", "", ""},
	{"an apple", "apple", "apple"},
	{"Ten.", "10", "10"},
	{"5.", "5", "5"},
	{".5", ".5", ".5"},
	{"yes!", "yes", "yes"},
	{"3 + 4 = 7", "3 4 7", "3 4 7"},
	{"I'm", "i'm", "i'm"},
	{"Im", "im", "im"},
	{"hello\nworld", "hello world", "hello world"},
	{"one two three four five six seven eight nine ten eleven", "1 2 3 4 5 6 7 8 9 10 eleven", "1 2 3 4 5 6 7 8 9 10 eleven"},
	{strings.Repeat("a.", 40), strings.Repeat("a", 33) + strings.Repeat(".a", 7) + ".", strings.Repeat("a", 33) + strings.Repeat(".a", 7) + "."},
	// Own cases for each rule.
	{"", "", ""},
	{"  Yes  ", "yes", "yes"},
	{"the the a an", "", ""},
	{"somebody'd", "somebodyd", "somebodyd"},
	{"Ive", "ive", "ive"},        // capital keys never match
	{"zero none", "0 0", "0 0"},  // number map
	{"1,2", "12", "12"},          // official: digit-comma-digit deletes all punctuation
	{"a-b 1,2", "b 12", "ab 12"}, // official: ... including "-"; m4c deleted the comma first
	{"x - y", "x y", "x y"},      // '-' touching a space is deleted
	{"what?!", "what", "what"},   // m4c deletes '?' first; '!' is spaced then trimmed
	{"end.", "end", "end"},
	{"v1.2.3.", "v1.2.3", "v1.2.3"},
	{"a\tb", "b", "b"}, // 'a' dropped as an article after the split
	{"It's", "it 's", "it's"},
	{"Let's go", "let 's go", "let's go"},
	{"\u00a0yes\u00a0", "yes", "yes"}, // Python strip() strips NBSP
	{"yes\x1fno", "yes no", "yes no"}, // and str.split() splits on U+001F
	{"twas", "'twas", "'twas"},
}

func TestNormalize(t *testing.T) {
	for _, tt := range normTable {
		if got := Normalize(tt.in); got != tt.m4c {
			t.Errorf("Normalize(%q) = %q, want %q", tt.in, got, tt.m4c)
		}
	}
}

func TestOfficialNormalize(t *testing.T) {
	for _, tt := range normTable {
		in := cleanVQA(tt.in)
		if got := ProcessDigitArticle(ProcessPunctuation(in)); got != tt.official {
			t.Errorf("official(%q) = %q, want %q", tt.in, got, tt.official)
		}
	}
}

func TestPeriodCap(t *testing.T) {
	// 33 periods: the 33rd survives.
	in := strings.Repeat("x.", 33)
	got := stripPeriods(in)
	if want := strings.Repeat("x", 33) + "."; got != want {
		t.Errorf("stripPeriods(33 periods) = %q, want %q", got, want)
	}
	// Periods followed by a digit are not counted.
	in = strings.Repeat("1.5 ", 40) + "end."
	if got := stripPeriods(in); got != strings.Repeat("1.5 ", 40)+"end" {
		t.Errorf("stripPeriods kept a countable period: %q", got)
	}
	// A period before a non-ASCII decimal digit (U+0663) is kept: Python's \d is Unicode.
	if got := stripPeriods("a.\u0663"); got != "a.\u0663" {
		t.Errorf("stripPeriods(a.<arabic 3>) = %q", got)
	}
}

func gts(counts ...any) []string {
	var out []string
	for i := 0; i < len(counts); i += 2 {
		for range counts[i+1].(int) {
			out = append(out, counts[i].(string))
		}
	}
	return out
}

func TestAccuracyShortcut(t *testing.T) {
	want := []float64{0, 0.3, 0.6, 0.9, 1, 1, 1, 1, 1, 1, 1}
	for k := 0; k <= 10; k++ {
		g := gts("x", k, "y", 10-k)
		got := Accuracy("x", g)
		if d := got - want[k]; d > 1e-12 || d < -1e-12 {
			t.Errorf("k=%d: Accuracy = %v, want %v", k, got, want[k])
		}
	}
}

// TextVQA vectors of scoring.md §7: m4c on prediction and ground truth.
func TestTextVQAVectors(t *testing.T) {
	m4c := func(pred string, gt []string) float64 {
		n := make([]string, len(gt))
		for i, g := range gt {
			n[i] = Normalize(g)
		}
		return Accuracy(Normalize(pred), n)
	}
	tests := []struct {
		pred string
		gt   []string
		want float64
	}{
		{"Dakota", gts("dakota", 10), 1},
		{"Dakota digital", gts("dakota digital", 3, "dakota", 7), 0.9},
		{"Nokia", gts("nokia", 1, "unanswerable", 9), 0.3},
		{"Nokia", gts("nokia", 2, "unanswerable", 8), 0.6},
		{"Nokia", gts("nokia", 3, "unanswerable", 7), 0.9},
		{"Nokia", gts("nokia", 4, "unanswerable", 6), 1},
		{"Nokia.", gts("Nokia", 2, "NOKIA!", 1, "other", 7), 0.9},
		{"two", gts("2", 5, "two", 5), 1},
		{"The Coca-Cola", gts("coca cola", 3, "coke", 7), 0.9},
		{"pepsi", gts("coca cola", 3, "coke", 7), 0},
	}
	for _, tt := range tests {
		if got := m4c(tt.pred, tt.gt); !near(got, tt.want) {
			t.Errorf("%q vs %v: %v, want %v", tt.pred, tt.gt, got, tt.want)
		}
	}
}

// VizWiz vectors of scoring.md §8, on the VizWiz evaluator alone.
func TestVizWizVectors(t *testing.T) {
	tests := []struct {
		pred string
		gt   []string
		want float64
	}{
		{"Unanswerable", gts("unanswerable", 6, "blurry", 4), 1},
		{"Coca-Cola", gts("coca cola", 2, "coke", 8), 0.6},
		{"dont know", gts("don't know", 10), 0},
		{"two", gts("2", 5, "two", 5), 1},
		{"yes", gts("yes", 3, "no", 7), 0.9},
	}
	sum := 0.0
	for _, tt := range tests {
		got := VizWizAccuracy(tt.pred, tt.gt)
		if !near(got, tt.want) {
			t.Errorf("%q: %v, want %v", tt.pred, got, tt.want)
		}
		sum += got
	}
	if mean := 100 * sum / float64(len(tests)); !near(mean, 70) {
		t.Errorf("mean = %v, want 70.00", mean)
	}
	if got := VizWizDigitArticle("dont"); got != "don\u2019t" {
		t.Errorf("VizWiz dont -> %q, want curly apostrophe", got)
	}
	if got := VizWizDigitArticle("cant"); got != "can't" {
		t.Errorf("VizWiz cant -> %q, want straight apostrophe", got)
	}
	if got := VizWizDigitArticle("hadn'tve"); got != "hadn\u2019t\u2019ve" {
		t.Errorf("VizWiz hadn'tve -> %q", got)
	}
	if len(vizwizContractions) != 120 {
		t.Errorf("VizWiz map has %d entries, want 120", len(vizwizContractions))
	}
}

// VQAv2 vectors of scoring.md §10, on the official evaluator alone.
func TestOfficialVectors(t *testing.T) {
	tests := []struct {
		pred string
		gt   []string
		want float64
	}{
		{"Yes", gts("yes", 10), 0},
		{"yes", gts("yes", 10), 1},
		{"Yes", gts("yes", 9, "no", 1), 1},
		{"2", gts("2", 4, "two", 6), 1},
		{"Two", gts("2", 4, "two", 6), 1},
	}
	sum := 0.0
	for _, tt := range tests {
		got := OfficialAccuracy(tt.pred, tt.gt)
		if !near(got, tt.want) {
			t.Errorf("%q vs %v: %v, want %v", tt.pred, tt.gt, got, tt.want)
		}
		sum += got
	}
	if mean := 100 * sum / float64(len(tests)); !near(mean, 80) {
		t.Errorf("overall = %v, want 80.00", mean)
	}
}

func near(a, b float64) bool { return a-b < 1e-9 && b-a < 1e-9 }
