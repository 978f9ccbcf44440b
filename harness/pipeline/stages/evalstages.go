package stages

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"image"
	"image/png"
	"math"
	"os"
	"path/filepath"

	"github.com/tive-dev/tive/benchmarks"
	"github.com/tive-dev/tive/harness/backend"
	"github.com/tive-dev/tive/harness/data"
	"github.com/tive-dev/tive/harness/model"
	"github.com/tive-dev/tive/harness/pipeline"
	"github.com/tive-dev/tive/harness/world"
)

// The evaluation stages: train (instruction tuning of the base model on a
// subset), predict (answer files for the world's benchmark suites) and score
// (the official scorers on them).
func init() {
	pipeline.Register(&pipeline.Stage{Name: "train", Version: "2", Arith: true, Run: runTrain}) // 2: random streams of package seeds
	pipeline.Register(&pipeline.Stage{Name: "predict", Version: "2", Arith: true, Run: runPredict, Sharded: true, Check: checkPredict})
	pipeline.Register(&pipeline.Stage{Name: "score", Version: "3", Run: runScore})
	pipeline.Register(&pipeline.Stage{Name: "chance", Version: "1", Run: runChance})
}

// chanceAnswers are the constant answers the chance stage tries.
var chanceAnswers = []string{"Yes", "No", "A", "B", "C", "D", "unanswerable"}

// Chance outputs: chance.json, {benchmark: {"answer", "score"}}: the best
// constant answer of each suite, scored by the official scorer, the level a
// trained model must beat.
func runChance(ctx context.Context, c *pipeline.Call) error {
	var p predictParams
	if err := c.Decode(&p); err != nil {
		return err
	}
	out := map[string]Level{}
	for _, b := range p.Benchmarks {
		f, sc, err := suiteScorer(c.Inputs["world"], b)
		if err != nil {
			return err
		}
		best := Level{Score: math.Inf(-1)}
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
				best = Level{a, res.Score}
			}
		}
		out[b] = best
	}
	return pipeline.WriteJSON(filepath.Join(c.Out, chanceFile), out)
}

// chanceFile is the chance stage's output.
const chanceFile = "chance.json"

// Level is a suite's best constant answer and its score.
type Level struct {
	Answer string  `json:"answer"`
	Score  float64 `json:"score"`
}

// ReadChance reads the chance.json of a chance stage's output folder.
func ReadChance(dir string) (map[string]Level, error) {
	var out map[string]Level
	return out, pipeline.ReadJSON(filepath.Join(dir, chanceFile), &out)
}

type trainParams struct {
	Backend  backendParams     `json:"backend"`
	Mode     string            `json:"mode"` // full or lora
	LoRA     model.LoRAConfig  `json:"lora"`
	Train    model.TrainConfig `json:"train"`
	Rehearse *rehearseParams   `json:"rehearse,omitempty"`
}

// rehearseParams draws the language texts that instruction tuning
// rehearses: n = round(PerRecord·records) per subset, of which g =
// round(Grid·n) are the first texts of the world's grid corpus for purpose
// "rehearse" (gridTexts under Model, the language stage's decoder config)
// and the other n-g the first of its language corpus for purpose
// "rehearse", with at most MaxFill filler sentences, as the language stage
// drew its own.
type rehearseParams struct {
	World     world.Config  `json:"world"`
	PerRecord float64       `json:"per_record"`
	MaxFill   int           `json:"max_fill"`
	Grid      float64       `json:"grid,omitempty"`
	Model     *model.Config `json:"model,omitempty"` // set with Grid
}

// Train outputs: model/, the base model fine-tuned on the subset (with fresh
// LoRA adapters in mode lora), and with p.Rehearse on the subset and its
// language texts, shuffled together (rehearsal).
func runTrain(ctx context.Context, c *pipeline.Call) error {
	var p trainParams
	if err := c.Decode(&p); err != nil {
		return err
	}
	req := backend.TrainRequest{
		ModelIn: filepath.Join(c.Inputs["base"], "model"), ModelOut: filepath.Join(c.Out, "model"),
		Records: c.Inputs["subset"], ImageRoot: filepath.Join(c.Inputs["world"], "images"),
		Train: p.Train, Seed: c.Seed, Meta: stageMeta("train", c.Seed), TowerTokens: c.Inputs["tokens"]}
	if p.Mode == "lora" {
		req.LoRA = &p.LoRA
	}
	if p.Rehearse != nil {
		work := filepath.Join(c.Out, "work")
		defer os.RemoveAll(work)
		req.Records = filepath.Join(work, "records.json")
		if err := rehearsal(req.Records, c.Inputs["subset"], *p.Rehearse); err != nil {
			return err
		}
	}
	be, err := p.Backend.open(c)
	if err != nil {
		return err
	}
	_, err = be.Train(ctx, req, c.Progress)
	return err
}

// rehearsal writes to out the records of the subset file followed by
// their language texts (rehearseParams).
func rehearsal(out, subset string, p rehearseParams) error {
	recs, err := data.Load(subset)
	if err != nil {
		return err
	}
	n := int(math.Round(p.PerRecord * float64(len(recs))))
	g := int(math.Round(p.Grid * float64(n)))
	texts, _, err := world.Language(p.World, "rehearse", 0, n-g, p.MaxFill)
	if err != nil {
		return err
	}
	if g > 0 {
		if p.Model == nil {
			return fmt.Errorf("rehearsal: %d grid texts asked for without the model config that lays them out", g)
		}
		grid, _, err := gridTexts(p.World, *p.Model, "rehearse", g)
		if err != nil {
			return err
		}
		texts = append(texts, grid...)
	}
	all := append(recs, texts...)
	idx := make([]int, len(all))
	for i := range idx {
		idx[i] = i
	}
	if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
		return err
	}
	return data.WriteJSON(out, all, idx)
}

type predictParams struct {
	Backend      backendParams `json:"backend"`
	Benchmarks   []string      `json:"benchmarks"`
	MaxNewTokens int           `json:"max_new_tokens"`
}

// Predict outputs: answers/<benchmark>.jsonl, the suite's LLaVA answer file
// (greedy decoding, up to max_new_tokens) for every question; as a job
// array, task k of K answers benchmarks k, k+K, ... Each suite's
// questions go to the backend as a LLaVA question file (images embedded in a
// TSV are written out first) in work/, removed at the end; the backend's
// texts fill the suite's answer lines (MMBench's round_id, options, ...).
func runPredict(ctx context.Context, c *pipeline.Call) error {
	var p predictParams
	if err := c.Decode(&p); err != nil {
		return err
	}
	be, err := p.Backend.open(c)
	if err != nil {
		return err
	}
	work := filepath.Join(c.Out, "work", fmt.Sprint(c.Task))
	defer os.RemoveAll(work)
	for k, b := range p.Benchmarks {
		if k%max(c.Tasks, 1) != c.Task {
			continue // another array task's benchmark
		}
		if c.Progress != nil {
			c.Progress(k, len(p.Benchmarks))
		}
		qs, err := world.Questions(c.Inputs["world"], b)
		if err != nil {
			return err
		}
		qfile, root, err := questionFile(c.Inputs["world"], filepath.Join(work, b), b, qs)
		if err != nil {
			return err
		}
		out := filepath.Join(work, b+"-answers.jsonl")
		_, err = be.Predict(ctx, backend.PredictRequest{Model: filepath.Join(c.Inputs["model"], "model"), Questions: qfile, ImageRoot: root,
			Answers: out, MaxNewTokens: p.MaxNewTokens, ModelID: "tive", TowerTokens: c.Inputs["tokens"]}, nil)
		if err != nil {
			return fmt.Errorf("%s: %w", b, err)
		}
		texts, err := answerTexts(out)
		if err != nil {
			return err
		}
		if len(texts) != len(qs) {
			return fmt.Errorf("%s: %d answers for %d questions", b, len(texts), len(qs))
		}
		ans := make([]world.Answer, len(qs))
		for i, q := range qs {
			ans[i] = q.Answer
			ans[i].Text = world.OneLine(texts[i])
			ans[i].ModelID = "tive"
			ans[i].AnswerID = fmt.Sprintf("%s-%d", b, i)
			ans[i].Metadata = map[string]any{}
		}
		if err := world.WriteAnswers(filepath.Join(c.Out, "answers", b+".jsonl"), ans); err != nil {
			return err
		}
	}
	return nil
}

// checkPredict refuses a predict output that lacks a benchmark's answer
// file (an array task that did not finish), and removes the work folder.
func checkPredict(c *pipeline.Call) error {
	var p predictParams
	if err := c.Decode(&p); err != nil {
		return err
	}
	for _, b := range p.Benchmarks {
		if _, err := os.Stat(filepath.Join(c.Out, "answers", b+".jsonl")); err != nil {
			return fmt.Errorf("predict: no answers for %s: %v", b, err)
		}
	}
	return os.RemoveAll(filepath.Join(c.Out, "work"))
}

// answerTexts reads the text of every line of a LLaVA answer file, in order.
func answerTexts(path string) ([]string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var out []string
	for i, l := range bytes.Split(bytes.TrimSpace(b), []byte("\n")) {
		var a struct {
			Text *string `json:"text"`
		}
		if err := json.Unmarshal(l, &a); err != nil || a.Text == nil {
			return nil, fmt.Errorf("%s:%d: not an answer line with a text", path, i+1)
		}
		out = append(out, *a.Text)
	}
	return out, nil
}

// questionFile writes qs as a LLaVA question file (question_id = position,
// image, text) in dir and returns it with the folder its image paths are
// relative to: the suite's image folder, or dir/images where the images are
// embedded in the question file (MMBench) and are written out as PNG.
func questionFile(worldDir, dir, suite string, qs []world.Question) (string, string, error) {
	f, err := world.Files(worldDir, suite)
	if err != nil {
		return "", "", err
	}
	root := f.Images
	if err := os.MkdirAll(filepath.Join(dir, "images"), 0o755); err != nil {
		return "", "", err
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	for i, q := range qs {
		img := q.Image
		if q.Embedded != nil {
			root = filepath.Join(dir, "images")
			img = fmt.Sprintf("%d.png", i)
			b, err := embeddedPNG(q.Embedded)
			if err != nil {
				return "", "", err
			}
			if err := os.WriteFile(filepath.Join(root, img), b, 0o644); err != nil {
				return "", "", err
			}
		}
		if err := enc.Encode(map[string]any{"question_id": i, "image": img, "text": q.Answer.Prompt}); err != nil {
			return "", "", err
		}
	}
	path := filepath.Join(dir, "questions.jsonl")
	return path, root, os.WriteFile(path, b.Bytes(), 0o644)
}

// embeddedPNG is the PNG file predict writes for an image embedded in a
// question file (MMBench), and the tokens stage keys it by.
func embeddedPNG(img image.Image) ([]byte, error) {
	var b bytes.Buffer
	err := png.Encode(&b, img)
	return b.Bytes(), err
}

// Score outputs: scores.json, {benchmark: {"benchmark", "score", "metrics"}}
// from the official scorer of each benchmark.
func runScore(ctx context.Context, c *pipeline.Call) error {
	var p predictParams
	if err := c.Decode(&p); err != nil {
		return err
	}
	out := map[string]benchmarks.Result{}
	for _, b := range p.Benchmarks {
		f, sc, err := suiteScorer(c.Inputs["world"], b)
		if err != nil {
			return err
		}
		res, err := sc.Score(benchmarks.Files{Questions: f.Questions, Answers: filepath.Join(c.Inputs["answers"], b+".jsonl"), Annotations: f.Annotations})
		if err != nil {
			return fmt.Errorf("%s: %w", b, err)
		}
		out[b] = res
	}
	return pipeline.WriteJSON(filepath.Join(c.Out, benchScoresFile), out)
}

// benchScoresFile is the score stage's output.
const benchScoresFile = "scores.json"

// suiteScorer returns a world suite's files and its official scorer.
func suiteScorer(worldDir, bench string) (world.SuiteFiles, benchmarks.Scorer, error) {
	f, err := world.Files(worldDir, bench)
	if err != nil {
		return f, nil, err
	}
	sc, err := benchmarks.Lookup(bench)
	return f, sc, err
}

// ReadBenchScores reads the scores.json of a score stage's output folder.
func ReadBenchScores(dir string) (map[string]benchmarks.Result, error) {
	var out map[string]benchmarks.Result
	return out, pipeline.ReadJSON(filepath.Join(dir, benchScoresFile), &out)
}
