package stages

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/tive-dev/tive/harness/data"
	"github.com/tive-dev/tive/harness/model"
	"github.com/tive-dev/tive/harness/spec"
	"github.com/tive-dev/tive/harness/world"
)

// BenchmarkLanguageModel trains the default model's decoder on the language
// corpus of the quick emoji world (seed 0) and reports its exact-match
// accuracy per skill on 800 held-out texts with up to 3 filler sentences
// (as in training) and up to 6 (positions training does not reach), and the
// training wall time. Sizes come from TIVE_LM_RECORDS (default 20000),
// TIVE_LM_EPOCHS (2), TIVE_LM_LR (2e-3), TIVE_LM_WIDTH (64), TIVE_LM_LAYERS
// (2) and TIVE_LM_HEADS (4); TIVE_LM_ROPE=1 and TIVE_LM_SINK=1 give the
// decoder rotary positions and attention sinks, TIVE_LM_INIT=g draws q, k,
// v and fc from N(0, g²/D). Training is on the answers only, or with
// TIVE_LM_ALL=1 as the language stage trains (trainLanguage): the loss on
// every next token (TIVE_LM_PROMPT_WEIGHT=w weights the prompt's w,
// TrainConfig.PromptWeight), then on the answers of the drills of
// TIVE_LM_DRILLS ("skill:max_objects:texts[:rehearse]", comma-separated,
// e.g. "yesno:1:64000,yesno:4:320000:160000") and of the first TIVE_LM_SFT texts.
// TIVE_LM_DROP lists skills (comma-separated) left out of training;
// TIVE_LM_ASSETS picks the art pack (default emoji, which needs the emoji
// assets; shapes has a few colours and shapes); TIVE_LM_SEED (1) seeds the
// model's draw, the TIVE_LM_INIT draw and the data order.
func BenchmarkLanguageModel(b *testing.B) {
	cfg := world.Config{Profile: "quick", Seed: 0, Assets: os.Getenv("TIVE_LM_ASSETS")}
	all, skills, err := world.Language(cfg, "language", 0, int(benchEnv("TIVE_LM_RECORDS", 20000)), 3)
	if err != nil {
		b.Skip(err)
	}
	var recs []data.Record // TIVE_LM_DROP: skills left out of training
	for i, r := range all {
		if !strings.Contains(","+os.Getenv("TIVE_LM_DROP")+",", ","+skills[i]+",") {
			recs = append(recs, r)
		}
	}
	mc := model.DefaultConfig()
	mc.Width, mc.Layers, mc.Heads = int(benchEnv("TIVE_LM_WIDTH", 64)), int(benchEnv("TIVE_LM_LAYERS", 2)), int(benchEnv("TIVE_LM_HEADS", 4))
	mc.RoPE, mc.Sink = benchEnv("TIVE_LM_ROPE", 0) > 0, benchEnv("TIVE_LM_SINK", 0) > 0
	for range b.N {
		seed := uint64(benchEnv("TIVE_LM_SEED", 1))
		m, err := model.New(mc, model.BuildVocab(recs, 1), seed)
		if err != nil {
			b.Fatal(err)
		}
		if g := benchEnv("TIVE_LM_INIT", 0); g > 0 { // std g/sqrt(fan_in) for q, k, v, fc
			r := rand.New(rand.NewPCG(7, 7^(seed-1)))
			for _, bl := range m.Blocks {
				for _, l := range []*model.Linear{bl.Q, bl.K, bl.V, bl.FC} {
					for i := range l.W.W {
						l.W.W[i] = float32(r.NormFloat64() * g / math.Sqrt(float64(l.In)))
					}
				}
			}
		}
		t0 := time.Now()
		tc := model.TrainConfig{Epochs: int(benchEnv("TIVE_LM_EPOCHS", 2)), LR: benchEnv("TIVE_LM_LR", 2e-3), Seed: seed, FreezeVision: true,
			PromptWeight: benchEnv("TIVE_LM_PROMPT_WEIGHT", 0)}
		if benchEnv("TIVE_LM_ALL", 0) > 0 { // the language stage's phases
			p := languageParams{World: cfg.WithDefaults(), Records: len(recs), Instruct: int(benchEnv("TIVE_LM_SFT", 0)), MaxFill: 3,
				Drills: benchDrills(b, os.Getenv("TIVE_LM_DRILLS")), Train: tc}
			if err := trainLanguage(context.Background(), m, recs, p, nil); err != nil {
				b.Fatal(err)
			}
		} else if _, err := model.Train(context.Background(), m, recs, nil, tc, nil); err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(time.Since(t0).Seconds(), "train-s")
		for _, fill := range []int{3, 6} {
			scores, err := LanguageEval(context.Background(), m, cfg, int(benchEnv("TIVE_LM_EVAL", 800)), fill)
			if err != nil {
				b.Fatal(err)
			}
			for _, s := range scores {
				b.ReportMetric(100*s.Accuracy, fmt.Sprintf("%s-fill%d-%%", s.Skill, fill))
			}
		}
	}
}

// benchDrills parses TIVE_LM_DRILLS: "skill:max_objects:texts[:rehearse]",
// comma-separated.
func benchDrills(b *testing.B, s string) []spec.Drill {
	var out []spec.Drill
	for _, f := range strings.FieldsFunc(s, func(r rune) bool { return r == ',' }) {
		var d spec.Drill
		parts := strings.Split(f, ":")
		if len(parts) == 3 {
			parts = append(parts, "0")
		}
		if len(parts) != 4 {
			b.Fatalf("TIVE_LM_DRILLS: %q is not skill:max_objects:texts[:rehearse]", f)
		}
		d.Skill = parts[0]
		if _, err := fmt.Sscan(parts[1]+" "+parts[2]+" "+parts[3], &d.MaxObjects, &d.Texts, &d.Rehearse); err != nil {
			b.Fatalf("TIVE_LM_DRILLS: %q: %v", f, err)
		}
		out = append(out, d)
	}
	return out
}
