package pipeline

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"

	"github.com/tive-dev/tive/benchmarks"
	"github.com/tive-dev/tive/harness/backend"
	"github.com/tive-dev/tive/harness/model"
	"github.com/tive-dev/tive/harness/world"
)

// The evaluation stages: train (instruction tuning of the base model on a
// subset), predict (answer files for the world's benchmark suites) and score
// (the official scorers on them).
func init() {
	Register(&Stage{Name: "train", Version: "1", Run: runTrain})
	Register(&Stage{Name: "predict", Version: "1", Run: runPredict})
	Register(&Stage{Name: "score", Version: "1", Run: runScore})
	Register(&Stage{Name: "chance", Version: "1", Run: runChance})
}

// chanceAnswers are the constant answers the chance stage tries.
var chanceAnswers = []string{"Yes", "No", "A", "B", "C", "D", "unanswerable"}

// Chance outputs: chance.json, {benchmark: {"answer", "score"}}: the best
// constant answer of each suite, scored by the official scorer, the level a
// trained model must beat.
func runChance(ctx context.Context, c *Call) error {
	var p predictParams
	if err := c.Decode(&p); err != nil {
		return err
	}
	type level struct {
		Answer string  `json:"answer"`
		Score  float64 `json:"score"`
	}
	out := map[string]level{}
	for _, b := range p.Benchmarks {
		f, err := world.Files(c.Inputs["world"], b)
		if err != nil {
			return err
		}
		sc, err := benchmarks.Lookup(b)
		if err != nil {
			return err
		}
		best := level{Score: math.Inf(-1)}
		for _, a := range chanceAnswers {
			ans, err := world.ConstantAnswers(b, filepath.Dir(f.Questions), a)
			if err != nil {
				return err
			}
			path := filepath.Join(c.Out, "answers", b+"-"+a+".jsonl")
			if err := world.WriteAnswers(path, ans); err != nil {
				return err
			}
			res, err := sc.Score(benchmarks.Files{Questions: f.Questions, Answers: path, Annotations: f.Annotations})
			if err != nil {
				return fmt.Errorf("%s, constant %q: %w", b, a, err)
			}
			if res.Score > best.Score {
				best = level{a, res.Score}
			}
		}
		out[b] = best
	}
	return writeJSON(filepath.Join(c.Out, "chance.json"), out)
}

type trainParams struct {
	Backend backendParams     `json:"backend"`
	Mode    string            `json:"mode"` // full or lora
	LoRA    model.LoRAConfig  `json:"lora"`
	Train   model.TrainConfig `json:"train"`
}

// Train outputs: model/, the base model fine-tuned on the subset (with fresh
// LoRA adapters in mode lora).
func runTrain(ctx context.Context, c *Call) error {
	var p trainParams
	if err := c.Decode(&p); err != nil {
		return err
	}
	req := backend.TrainRequest{
		ModelIn: filepath.Join(c.Inputs["base"], "model"), ModelOut: filepath.Join(c.Out, "model"),
		Records: c.Inputs["subset"], ImageRoot: filepath.Join(c.Inputs["world"], "images"),
		Train: p.Train, Seed: c.Seed, Meta: stageMeta("train", c.Seed)}
	if p.Mode == "lora" {
		req.LoRA = &p.LoRA
	}
	be, err := p.Backend.open(c)
	if err != nil {
		return err
	}
	_, err = be.Train(ctx, req, c.Progress)
	return err
}

type predictParams struct {
	Benchmarks   []string `json:"benchmarks"`
	MaxNewTokens int      `json:"max_new_tokens"`
}

// Predict outputs: answers/<benchmark>.jsonl, LLaVA answer files (greedy
// decoding, up to max_new_tokens) for every question of each suite.
func runPredict(ctx context.Context, c *Call) error {
	var p predictParams
	if err := c.Decode(&p); err != nil {
		return err
	}
	m, err := model.Load(filepath.Join(c.Inputs["model"], "model"))
	if err != nil {
		return err
	}
	w := c.Inputs["world"]
	for k, b := range p.Benchmarks {
		if c.Progress != nil {
			c.Progress(k, len(p.Benchmarks))
		}
		qs, err := world.Questions(w, b)
		if err != nil {
			return err
		}
		f, err := world.Files(w, b)
		if err != nil {
			return err
		}
		// Question images are files under the suite's image folder, or (MMBench)
		// embedded in the question file.
		var src model.ImageSource = model.DirImages{Root: f.Images}
		prompts := make([]model.Prompt, len(qs))
		embedded := model.MapImages{}
		for i, q := range qs {
			prompts[i] = model.Prompt{Image: q.Image, Text: q.Answer.Prompt}
			if q.Embedded != nil {
				key := fmt.Sprint("embedded/", i)
				embedded[key] = q.Embedded
				prompts[i].Image = key
			}
		}
		if len(embedded) > 0 {
			src = embedded
		}
		texts, err := model.Generate(ctx, m, prompts, src, p.MaxNewTokens)
		if err != nil {
			return fmt.Errorf("%s: %w", b, err)
		}
		ans := make([]world.Answer, len(qs))
		for i, q := range qs {
			ans[i] = q.Answer
			ans[i].Text = texts[i]
			ans[i].ModelID = "tive-builtin"
			ans[i].AnswerID = fmt.Sprintf("%s-%d", b, i)
			ans[i].Metadata = map[string]any{}
		}
		if err := world.WriteAnswers(filepath.Join(c.Out, "answers", b+".jsonl"), ans); err != nil {
			return err
		}
	}
	return nil
}

// Score outputs: scores.json, {benchmark: {"benchmark", "score", "metrics"}}
// from the official scorer of each benchmark.
func runScore(ctx context.Context, c *Call) error {
	var p predictParams
	if err := c.Decode(&p); err != nil {
		return err
	}
	out := map[string]benchmarks.Result{}
	for _, b := range p.Benchmarks {
		f, err := world.Files(c.Inputs["world"], b)
		if err != nil {
			return err
		}
		sc, err := benchmarks.Lookup(b)
		if err != nil {
			return err
		}
		res, err := sc.Score(benchmarks.Files{Questions: f.Questions, Answers: filepath.Join(c.Inputs["answers"], b+".jsonl"), Annotations: f.Annotations})
		if err != nil {
			return fmt.Errorf("%s: %w", b, err)
		}
		out[b] = res
	}
	return writeJSON(filepath.Join(c.Out, "scores.json"), out)
}

// ReadBenchScores reads the scores.json of a score stage's output folder.
func ReadBenchScores(dir string) (map[string]benchmarks.Result, error) {
	var out map[string]benchmarks.Result
	b, err := os.ReadFile(filepath.Join(dir, "scores.json"))
	if err != nil {
		return nil, err
	}
	return out, json.Unmarshal(b, &out)
}
