package model_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tive-dev/tive/harness/data"
	"github.com/tive-dev/tive/harness/model"
)

// readingTask is the smallest test of reading a question, with no image:
// a description names 1..objects of `words` made-up object names (one
// token each), optionally with a sentence of position and colour per
// object (detail), after 0–3 filler sentences; the question asks whether
// one name is there, and half the time it is the described object (Yes).
// Only comparing the question's word with the description's words
// answers it.
func readingTask(n int, seed uint64, words []string, objects int, detail bool) []data.Record {
	rng := rand.New(rand.NewPCG(seed, 0x72656164))
	where := []string{"in the top left corner", "at the top", "in the middle", "at the bottom", "on the left side"}
	colours := []string{"red", "green", "blue", "gray", "yellow"}
	recs := make([]data.Record, n)
	for i := range recs {
		x := words[rng.IntN(len(words))]
		y, a := x, "Yes"
		if rng.IntN(2) == 0 {
			if y = words[rng.IntN(len(words))]; y != x {
				a = "No"
			}
		}
		objs := []string{x}
		for range rng.IntN(objects) {
			if z := words[rng.IntN(len(words))]; z != y {
				objs = append(objs, z)
			}
		}
		rng.Shuffle(len(objs), func(i, j int) { objs[i], objs[j] = objs[j], objs[i] })
		var b strings.Builder
		for range rng.IntN(4) {
			b.WriteString("Read the description below. ")
		}
		b.WriteString("The image shows a " + strings.Join(objs, ", a ") + " on a street.")
		if detail {
			for _, k := range rng.Perm(len(objs)) {
				fmt.Fprintf(&b, " A %s is %s of the picture, and it is mostly %s.", objs[k], where[rng.IntN(len(where))], colours[rng.IntN(len(colours))])
			}
		}
		b.WriteString("\nIs there a " + y + " in the image?")
		recs[i] = data.Record{ID: fmt.Sprint(i), Conversations: []data.Turn{{From: "human", Value: b.String()}, {From: "gpt", Value: a}}}
	}
	return recs
}

// madeUpWords returns n distinct three-syllable words.
func madeUpWords(n int) []string {
	rng := rand.New(rand.NewPCG(1, 0x776f7264))
	seen := map[string]bool{}
	var out []string
	for len(out) < n {
		var w string
		for range 3 {
			w += string("bdfgklmnprstvz"[rng.IntN(14)]) + string("aeiou"[rng.IntN(5)])
		}
		if !seen[w] {
			seen[w] = true
			out = append(out, w)
		}
	}
	return out
}

// BenchmarkReading trains a text-only decoder (TIVE_READ_LAYERS blocks, 2;
// width 64; TIVE_READ_HEADS heads, 4; RoPE, fan-in init; lr 1e-3) for
// TIVE_READ_STEPS steps (4000) of 32 fresh readingTask texts
// (TIVE_READ_WORDS names, 320; TIVE_READ_OBJECTS at most, 1;
// TIVE_READ_DETAIL=1 adds the detail sentences) and reports the share of
// 400 new texts it answers right (chance 50%), with the loss on the answer
// only, on every next token alike (a base LM's pretraining), and on every
// next token with the prompt's weighted TIVE_READ_PROMPT_WEIGHT (0.1;
// TrainConfig.PromptWeight), for model seed TIVE_READ_SEED (1). It is the
// language model's hardest skill (issue 13: yes/no) at its smallest.
func BenchmarkReading(b *testing.B) {
	words := madeUpWords(envInt("TIVE_READ_WORDS", 320))
	objects, detail := envInt("TIVE_READ_OBJECTS", 1), envInt("TIVE_READ_DETAIL", 0) > 0
	steps := envInt("TIVE_READ_STEPS", 4000)
	pw := 0.1
	if v, err := strconv.ParseFloat(os.Getenv("TIVE_READ_PROMPT_WEIGHT"), 64); err == nil {
		pw = v
	}
	train, test := readingTask(32*steps, 1, words, objects, detail), readingTask(400, 2, words, objects, detail)
	vocab := model.BuildVocab(append(append([]data.Record(nil), train...), test...), 1)
	cfg := model.DefaultConfig()
	cfg.RoPE, cfg.Init = envInt("TIVE_READ_ROPE", 1) > 0, "fanin"
	cfg.Heads, cfg.Layers = envInt("TIVE_READ_HEADS", cfg.Heads), envInt("TIVE_READ_LAYERS", cfg.Layers)
	for _, loss := range []struct {
		name string
		all  bool
		pw   float64
	}{{"answers", false, 0}, {"all", true, 0}, {"all-prompt-weighted", true, pw}} {
		b.Run("loss="+loss.name, func(b *testing.B) {
			for range b.N {
				m, err := model.New(cfg, vocab, uint64(envInt("TIVE_READ_SEED", 1)))
				if err != nil {
					b.Fatal(err)
				}
				t0 := time.Now()
				tc := model.TrainConfig{LR: 1e-3, Seed: 1, FreezeVision: true, AllTokens: loss.all, PromptWeight: loss.pw}
				if _, err := model.Train(context.Background(), m, train, nil, tc, nil); err != nil {
					b.Fatal(err)
				}
				b.ReportMetric(time.Since(t0).Seconds(), "train-s")
				prompts := make([]model.Prompt, len(test))
				for i, r := range test {
					prompts[i] = model.Prompt{Text: r.Conversations[0].Value}
				}
				got, err := model.Generate(context.Background(), m, prompts, nil, 3)
				if err != nil {
					b.Fatal(err)
				}
				right := 0
				for i, r := range test {
					if strings.TrimSpace(got[i]) == r.Conversations[1].Value {
						right++
					}
				}
				b.ReportMetric(100*float64(right)/float64(len(test)), "%right")
			}
		})
	}
}
