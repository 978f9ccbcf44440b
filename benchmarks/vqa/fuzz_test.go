package vqa

import (
	"math/rand/v2"
	"strings"
	"testing"
)

func FuzzNormalize(f *testing.F) {
	for _, tt := range normTable {
		f.Add(tt.in)
	}
	f.Fuzz(func(t *testing.T, s string) {
		// Answers come from JSON strings, which Go and Python decode to
		// valid UTF-8; the reference works on runes.
		s = strings.ToValidUTF8(s, "\uFFFD")
		checkAgainstReference(t, s)
		norms := map[string]func(string) string{
			"m4c":      Normalize,
			"official": func(s string) string { return ProcessDigitArticle(ProcessPunctuation(s)) },
			"vizwiz":   func(s string) string { return VizWizDigitArticle(ProcessPunctuation(s)) },
		}
		for name, norm := range norms {
			out := norm(s)
			// The last step joins whitespace-split tokens with single spaces.
			if out != strings.Join(Split(out), " ") {
				t.Fatalf("%s(%q) = %q is not space-normalised", name, s, out)
			}
			if norm(s) != out {
				t.Fatalf("%s is not deterministic on %q", name, s)
			}
		}
		gt := []string{s, "yes", s, "no", "2", s, "", "a", s + ".", "x"}
		for _, acc := range []float64{Accuracy(Normalize(s), gt), OfficialAccuracy(s, gt), VizWizAccuracy(s, gt)} {
			if !(acc >= 0 && acc <= 1) {
				t.Fatalf("accuracy %v out of [0, 1] for %q", acc, s)
			}
		}
	})
}

// vqaPool is a deterministic pool of questions (10 ground-truth answers)
// and predictions in the style of VQAv2/TextVQA model outputs.
func vqaPool(n int) (preds []string, gts [][]string) {
	rng := rand.New(rand.NewPCG(1, 2))
	words := []string{"yes", "no", "2", "two", "red", "Blue", "the cat", "A dog.", "t-shirt", "Coca-Cola", "left (top)",
		"10:30", "3.5", "U.S.A.", "don't know", "Dont", "unanswerable", "man's hat", "white and red", "1,000", "New York", "Nokia!"}
	pick := func() string { return words[rng.IntN(len(words))] }
	for range n {
		preds = append(preds, pick())
		g := make([]string, 10)
		main := pick()
		for j := range g {
			if rng.IntN(3) == 0 {
				g[j] = pick()
			} else {
				g[j] = main
			}
		}
		gts = append(gts, g)
	}
	return preds, gts
}

// BenchmarkScoreMillion scores one million VQA answers per iteration the
// TextVQA way (m4c on the prediction and the 10 ground-truth answers, then
// the soft accuracy), cycling over 10,000 distinct questions.
func BenchmarkScoreMillion(b *testing.B) {
	preds, gts := vqaPool(10_000)
	const n = 1_000_000
	b.ResetTimer()
	for b.Loop() {
		sum := 0.0
		norm := make([]string, 10)
		for i := range n {
			k := i % len(preds)
			for j, g := range gts[k] {
				norm[j] = Normalize(g)
			}
			sum += Accuracy(Normalize(preds[k]), norm)
		}
		if sum <= 0 {
			b.Fatal("no score")
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/n, "ns/answer")
	b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "answers/s")
}

// BenchmarkScoreMillionOfficial is the same for the VQAv2 flow: m4c on the
// prediction (the upload), then vqaEval.py on the raw ground truth.
func BenchmarkScoreMillionOfficial(b *testing.B) {
	preds, gts := vqaPool(10_000)
	const n = 1_000_000
	b.ResetTimer()
	for b.Loop() {
		sum := 0.0
		for i := range n {
			k := i % len(preds)
			sum += OfficialAccuracy(Normalize(preds[k]), gts[k])
		}
		if sum <= 0 {
			b.Fatal("no score")
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/n, "ns/answer")
	b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "answers/s")
}
