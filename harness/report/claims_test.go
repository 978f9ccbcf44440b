package report

import (
	"path/filepath"
	"strings"
	"testing"
)

// TestClaimsNeedALearningModel: on the committed summary the full-data
// model beats the best constant answers, so the score claims keep their
// verdicts; with its scores set to chance level they become NoSignal and
// say why, while the planted and cost claims, which rest on no score, keep
// theirs.
func TestClaimsNeedALearningModel(t *testing.T) {
	s, err := ReadSummary(filepath.Join("testdata", "summary.json"))
	if err != nil {
		t.Fatal(err)
	}
	before := Claims(s)
	for _, c := range before {
		if c.Verdict == NoSignal {
			t.Errorf("%q: %s, but full data beats chance on the committed summary", c.Text, c.Verdict)
		}
	}
	if before[0].Verdict == NotRun || before[1].Verdict == NotRun {
		t.Fatalf("the committed summary should decide the parity and baseline claims: %+v", before[:2])
	}
	for _, r := range s.Study("main").Runs {
		if r.Method == "full" {
			for b, v := range r.Chance {
				r.Scores[b] = v - 1
			}
		}
	}
	after := Claims(s)
	for i, c := range after {
		decided := before[i].Verdict == Holds || before[i].Verdict == DoesNotHold || before[i].Verdict == Mixed
		if i < 6 && decided { // the six claims about scores (Claims)
			if c.Verdict != NoSignal || !strings.Contains(c.Numbers, "the best constant answers") {
				t.Errorf("%q: %s (%s), want %s with the reason", c.Text, c.Verdict, c.Numbers, NoSignal)
			}
		} else if c.Verdict != before[i].Verdict {
			t.Errorf("%q: %s before, %s after", c.Text, before[i].Verdict, c.Verdict)
		}
	}
}
