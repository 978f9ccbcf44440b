package world

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tive-dev/tive/harness/data"
)

// TestExistenceAnswersBalanced guards against a mixture whose "Is there ...?"
// questions are almost all answered No: a model trained on it learns to say
// No, and POPE (F1 of the yes class) scores 0.
func TestExistenceAnswersBalanced(t *testing.T) {
	dir := t.TempDir()
	if err := Generate(context.Background(), Config{Profile: "tiny", Assets: "shapes", Seed: 4}, dir, nil); err != nil {
		t.Fatal(err)
	}
	recs, err := data.Load(filepath.Join(dir, "mixture.json"))
	if err != nil {
		t.Fatal(err)
	}
	yes, no := 0, 0
	for _, r := range recs {
		for i := 0; i+1 < len(r.Conversations); i += 2 {
			q, a := r.Conversations[i].Value, strings.ToLower(r.Conversations[i+1].Value)
			if !strings.Contains(q, "Is there a") || strings.Contains(q, "text") {
				continue
			}
			switch {
			case strings.HasPrefix(a, "yes"):
				yes++
			case strings.HasPrefix(a, "no"):
				no++
			}
		}
	}
	if yes+no < 50 {
		t.Fatalf("only %d existence questions", yes+no)
	}
	if f := float64(yes) / float64(yes+no); f < 0.3 || f > 0.7 {
		t.Errorf("existence questions answered yes %d, no %d (yes share %.2f, want 0.3..0.7)", yes, no, f)
	}
}
