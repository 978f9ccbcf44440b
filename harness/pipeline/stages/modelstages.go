package stages

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/tive-dev/tive/harness/backend"
	"github.com/tive-dev/tive/harness/data"
	"github.com/tive-dev/tive/harness/grad"
	"github.com/tive-dev/tive/harness/model"
	"github.com/tive-dev/tive/harness/pipeline"
	"github.com/tive-dev/tive/harness/seeds"
	"github.com/tive-dev/tive/harness/spec"
	"github.com/tive-dev/tive/harness/world"
)

// The built-in model's stages: language (the decoder on the world's
// language corpus, once per world, when the spec asks for it; version 2
// pretrains on every next token first), pretrain (the base model, once per
// world; version 2 draws its projector afresh on a language model and can
// align it on words),
// reference (LoRA on the warm-up set) and features (per-example gradients of
// the whole pool, sharded and resumable).
func init() {
	pipeline.Register(&pipeline.Stage{Name: "language", Version: "8", Arith: true, Run: runLanguage})   // 8: the fact skill; grid texts ask more than "Is there" (the train stage's grid rehearsal changes with them, keyed through this stage, which rehearsal needs)
	pipeline.Register(&pipeline.Stage{Name: "pretrain", Version: "3", Arith: true, Run: runPretrain})   // 3: random streams of package seeds
	pipeline.Register(&pipeline.Stage{Name: "reference", Version: "2", Arith: true, Run: runReference}) // 2: random streams of package seeds
	pipeline.Register(&pipeline.Stage{Name: "features", Version: "1", Arith: true, Run: runFeatures, Resumable: true, Sharded: true, Check: checkFeatures})
	pipeline.Register(&pipeline.Stage{Name: "valfeatures", Version: "2", Arith: true, Run: runValFeatures}) // 2: random streams of package seeds
}

type pretrainParams struct {
	Model         model.Config      `json:"model"`
	VocabMinCount int               `json:"vocab_min_count"`
	Train         model.TrainConfig `json:"train"`
	Align         *alignParams      `json:"align,omitempty"`
}

// worldImages reads images of a generated world: record image paths are
// relative to DIR/images.
func worldImages(worldDir string) model.DirImages {
	return model.DirImages{Root: filepath.Join(worldDir, "images")}
}

// Pretrain outputs: model/ (a checkpoint) trained on the world's captions.
// Without a language input it starts from scratch (full fine-tuning, with a
// vocabulary built from the captions and the training mixture); with one it
// takes the language model's decoder and vocabulary, draws a projector of
// its own shape, and keeps the decoder fixed. With a vision input it takes
// that stage's pretrained tower and keeps it fixed too, so that with both it
// trains the projector only (LLaVA's stage 1). With Align it trains the
// projector on words instead of the captions (align) and adds eval.json.
func runPretrain(ctx context.Context, c *pipeline.Call) error {
	var p pretrainParams
	if err := c.Decode(&p); err != nil {
		return err
	}
	w := c.Inputs["world"]
	caps, mix, err := worldText(w)
	if err != nil {
		return err
	}
	var m *model.Model
	if lang, ok := c.Inputs["language"]; ok {
		lm, err := model.Load(filepath.Join(lang, "model"))
		if err != nil {
			return err
		}
		if m, err = model.New(p.Model, lm.Vocab, c.Seed); err != nil {
			return err
		}
		if err := m.CopyDecoder(lm); err != nil {
			return err
		}
		p.Train.FreezeDecoder = true
	} else {
		vocab := model.BuildVocab(append(append([]data.Record(nil), caps...), mix...), p.VocabMinCount)
		if m, err = model.New(p.Model, vocab, c.Seed); err != nil {
			return err
		}
	}
	if vis, ok := c.Inputs["vision"]; ok {
		tower, err := model.Load(filepath.Join(vis, "model"))
		if err != nil {
			return err
		}
		if err := m.CopyTower(tower); err != nil {
			return err
		}
		p.Train.FreezeVision = true
	}
	p.Train.Seed = c.Seed
	if p.Align != nil {
		p.Align.Train.Seed = c.Seed
		err = align(ctx, m, *p.Align, c.Out, c.Progress)
	} else {
		_, err = model.Train(ctx, m, caps, worldImages(w), p.Train, c.Progress)
	}
	if err != nil {
		return err
	}
	return model.Save(filepath.Join(c.Out, "model"), m, stageMeta("pretrain", c.Seed))
}

// worldText reads a world's captions and training mixture.
func worldText(w string) (caps, mix []data.Record, err error) {
	if caps, err = data.Load(filepath.Join(w, world.PretrainFile)); err != nil {
		return nil, nil, err
	}
	mix, err = data.Load(filepath.Join(w, world.MixtureFile))
	return caps, mix, err
}

type languageParams struct {
	World         world.Config      `json:"world"`
	Model         model.Config      `json:"model"`
	VocabMinCount int               `json:"vocab_min_count"`
	Records       int               `json:"records"`
	Instruct      int               `json:"instruct,omitempty"`
	Drills        []spec.Drill      `json:"drills,omitempty"`
	MaxFill       int               `json:"max_fill"`
	Eval          int               `json:"eval"`
	Train         model.TrainConfig `json:"train"`
}

// Language outputs model/, a model whose decoder trained on Records texts of
// the world's language corpus with the loss on every next token
// (TrainConfig.AllTokens; the prompt's weighted Train.PromptWeight), then
// on each drill's fresh texts and on the first Instruct texts of the corpus
// with the loss on the answers only (languagePhases; its vision encoder and
// projector stay as drawn), with a vocabulary built from the corpus, the
// captions and the mixture; and eval.json, its exact-match accuracy per
// skill on Eval held-out texts with up to MaxFill+3 filler sentences
// (positions the training texts do not reach), and with a grid drill on
// Eval held-out grid texts too (the last row, gridEval).
func runLanguage(ctx context.Context, c *pipeline.Call) error {
	var p languageParams
	if err := c.Decode(&p); err != nil {
		return err
	}
	w := c.Inputs["world"]
	corpus, _, err := world.Language(p.World, "language", 0, p.Records, p.MaxFill)
	if err != nil {
		return err
	}
	caps, mix, err := worldText(w)
	if err != nil {
		return err
	}
	vocab := model.BuildVocab(append(append(append([]data.Record(nil), corpus...), caps...), mix...), p.VocabMinCount)
	m, err := model.New(p.Model, vocab, c.Seed)
	if err != nil {
		return err
	}
	p.Train.Seed = c.Seed
	if err := trainLanguage(ctx, m, corpus, p, c.Progress); err != nil {
		return err
	}
	eval, err := LanguageEval(ctx, m, p.World, p.Eval, p.MaxFill+3)
	if err != nil {
		return err
	}
	if slices.ContainsFunc(p.Drills, func(d spec.Drill) bool { return d.Grid }) {
		grid, err := gridEval(ctx, m, p)
		if err != nil {
			return err
		}
		eval = append(eval, grid...)
	}
	if err := pipeline.WriteJSON(filepath.Join(c.Out, evalFile), eval); err != nil {
		return err
	}
	return model.Save(filepath.Join(c.Out, "model"), m, stageMeta("language", c.Seed))
}

// languagePhases is the language stage's training records, phase by
// phase: corpus (p.Records texts of the language corpus); for drill i,
// d.Texts fresh texts of its kind (purpose "language-drill-i"; of the grid
// corpus for a grid drill, gridTexts) followed by
// d.Rehearse fresh texts of the whole corpus ("language-drill-i-rehearse"),
// which training shuffles together, as a phase of its own or, with d.Join,
// appended to the phase before it; and corpus[:p.Instruct] when Instruct
// is positive.
func languagePhases(corpus []data.Record, p languageParams) ([][]data.Record, error) {
	phases := [][]data.Record{corpus}
	for i, d := range p.Drills {
		var texts []data.Record
		var err error
		if d.Grid {
			texts, _, err = gridTexts(p.World, p.Model, fmt.Sprintf("language-drill-%d", i), d.Texts)
		} else {
			texts, _, err = world.LanguageOf(p.World, fmt.Sprintf("language-drill-%d", i), d.TextKind, 0, d.Texts, p.MaxFill)
		}
		if err != nil {
			return nil, err
		}
		if d.Rehearse > 0 {
			mix, _, err := world.Language(p.World, fmt.Sprintf("language-drill-%d-rehearse", i), 0, d.Rehearse, p.MaxFill)
			if err != nil {
				return nil, err
			}
			texts = append(texts, mix...)
		}
		if d.Join && len(phases) > 1 {
			phases[len(phases)-1] = append(phases[len(phases)-1], texts...)
			continue
		}
		phases = append(phases, texts)
	}
	if p.Instruct > 0 {
		phases = append(phases, corpus[:p.Instruct])
	}
	return phases, nil
}

// gridTexts is the first n texts of world w's grid corpus for purpose
// (world.GridLanguage), each scene stated as the words the visual tokens of
// a model of config cfg read it as (tokenWordStrings), and each text's form.
func gridTexts(w world.Config, cfg model.Config, purpose string, n int) ([]data.Record, []string, error) {
	concepts, colours, err := world.VisionLabels(w)
	if err != nil {
		return nil, nil, err
	}
	return world.GridLanguage(w, purpose, 0, n, func(s world.VisionScene) []string {
		return tokenWordStrings(cfg, concepts, colours, s)
	})
}

// trainLanguage trains m's decoder (its vision encoder frozen) as the
// language stage does, on languagePhases(corpus, p): the first phase with
// the loss on every next token, the others with the loss on the answers
// only; progress (may be nil) gets the steps done of all phases'.
func trainLanguage(ctx context.Context, m *model.Model, corpus []data.Record, p languageParams, progress func(done, total int)) error {
	phases, err := languagePhases(corpus, p)
	if err != nil {
		return err
	}
	total := 0
	for _, ph := range phases {
		total += p.Train.Steps(len(ph))
	}
	tc, done := p.Train, 0
	tc.FreezeVision = true
	for k, ph := range phases {
		tc.AllTokens = k == 0
		if _, err := model.Train(ctx, m, ph, nil, tc, func(d, _ int) {
			if progress != nil {
				progress(done+d, total)
			}
		}); err != nil {
			return err
		}
		done += tc.Steps(len(ph))
	}
	return nil
}

// gridEval scores m's answers to p.Eval held-out grid texts (gridTexts,
// purpose "language-eval"), questions about a scene stated as the words its
// visual tokens read as, as LanguageEval scores its skills: the skill
// "grid" for all of them, then "grid/<form>" for each form of
// world.GridLanguage, in order of first appearance. The language stage adds
// them to eval.json when a drill is a grid drill.
func gridEval(ctx context.Context, m *model.Model, p languageParams) ([]SkillScore, error) {
	texts, forms, err := gridTexts(p.World, p.Model, "language-eval", p.Eval)
	if err != nil {
		return nil, err
	}
	prompts := make([]model.Prompt, len(texts))
	for i, r := range texts {
		prompts[i] = model.Prompt{Text: r.Conversations[0].Value}
	}
	got, err := model.Generate(ctx, m, prompts, nil, 32)
	if err != nil {
		return nil, err
	}
	scores := []SkillScore{{Skill: "grid"}}
	row := map[string]int{}
	for i, r := range texts {
		k, ok := row[forms[i]]
		if !ok {
			k = len(scores)
			row[forms[i]] = k
			scores = append(scores, SkillScore{Skill: "grid/" + forms[i]})
		}
		right := normAnswer(got[i]) == normAnswer(r.Conversations[1].Value)
		for _, j := range []int{0, k} {
			scores[j].N++
			if right {
				scores[j].Right++
			}
		}
	}
	for j := range scores {
		scores[j].Accuracy = ratio(scores[j].Right, scores[j].N)
	}
	return scores, nil
}

// SkillScore is a language model's exact-match accuracy on one skill.
type SkillScore struct {
	Skill    string  `json:"skill"`
	N        int     `json:"n"`
	Right    int     `json:"right"`
	Accuracy float64 `json:"accuracy"` // Right/N, 0 when N is 0
}

// LanguageEval asks m n held-out texts of the world cfg's language corpus
// (purpose "language-eval", up to maxFill filler sentences) and scores its
// greedy answers per skill, in world.Skills order: right when the answer
// equals the truth up to case, surrounding space and a final period.
func LanguageEval(ctx context.Context, m *model.Model, cfg world.Config, n, maxFill int) ([]SkillScore, error) {
	recs, skills, err := world.Language(cfg, "language-eval", 0, n, maxFill)
	if err != nil {
		return nil, err
	}
	prompts := make([]model.Prompt, len(recs))
	for i, r := range recs {
		prompts[i] = model.Prompt{Text: r.Conversations[0].Value}
	}
	got, err := model.Generate(ctx, m, prompts, nil, 32)
	if err != nil {
		return nil, err
	}
	scores := make([]SkillScore, len(world.Skills))
	for k, s := range world.Skills {
		scores[k].Skill = s
	}
	for i, r := range recs {
		k := slices.Index(world.Skills, skills[i])
		scores[k].N++
		if normAnswer(got[i]) == normAnswer(r.Conversations[1].Value) {
			scores[k].Right++
		}
	}
	for k := range scores {
		if scores[k].N > 0 {
			scores[k].Accuracy = float64(scores[k].Right) / float64(scores[k].N)
		}
	}
	return scores, nil
}

// normAnswer is an answer as LanguageEval compares it: lower case, without
// surrounding space or a final period.
func normAnswer(s string) string {
	return strings.ToLower(strings.TrimSuffix(strings.TrimSpace(s), "."))
}

type referenceParams struct {
	Backend backendParams     `json:"backend"`
	LoRA    model.LoRAConfig  `json:"lora"`
	Train   model.TrainConfig `json:"train"`
	// SaveOptimizer keeps the final AdamW state beside the model, for Adam
	// gradient features (features.precondition: adam).
	SaveOptimizer bool `json:"save_optimizer,omitempty"`
}

// backendParams picks the backend of a stage (spec.Backend); part of the
// stage key.
type backendParams struct {
	Kind string   `json:"kind"`
	Argv []string `json:"argv,omitempty"`
}

// backendRuntime holds an external backend's timeouts and retries: they do
// not change outputs, so they travel in Call.Runtime, outside the key.
type backendRuntime struct {
	Timeout time.Duration `json:"timeout"`
	Retries int           `json:"retries"`
}

func (b backendParams) open(c *pipeline.Call) (backend.Backend, error) {
	if b.Kind != "external" {
		return backend.Builtin{ShardDone: func(int, int) { c.At("shard-written:features") }}, nil
	}
	var rt backendRuntime
	if len(c.Runtime) > 0 {
		if err := json.Unmarshal(c.Runtime, &rt); err != nil {
			return nil, err
		}
	}
	return &backend.External{Argv: b.Argv, Timeout: rt.Timeout, Retries: rt.Retries, Log: c.Log}, nil
}

// Reference outputs: model/, the base model with LoRA adapters trained on the
// warm-up set (TIVE step 2).
func runReference(ctx context.Context, c *pipeline.Call) error {
	var p referenceParams
	if err := c.Decode(&p); err != nil {
		return err
	}
	be, err := p.Backend.open(c)
	if err != nil {
		return err
	}
	_, err = be.Train(ctx, backend.TrainRequest{
		ModelIn: filepath.Join(c.Inputs["base"], "model"), ModelOut: filepath.Join(c.Out, "model"),
		Records: c.Inputs["warmup"], ImageRoot: filepath.Join(c.Inputs["world"], "images"),
		LoRA: &p.LoRA, Train: p.Train, Seed: c.Seed, Meta: stageMeta("reference", c.Seed), SaveOptimizer: p.SaveOptimizer,
		TowerTokens: c.Inputs["tokens"]}, c.Progress)
	return err
}

// stageMeta is the provenance saved in a checkpoint's manifest.
func stageMeta(stage string, seed uint64) json.RawMessage {
	return json.RawMessage(fmt.Sprintf(`{"seed":%d,"stage":%q}`, seed, stage))
}

type featuresParams struct {
	Backend   backendParams      `json:"backend"`
	Params    model.ParamSet     `json:"params"`
	Projector grad.ProjectorSpec `json:"projector"`
	BatchSize int                `json:"batch_size"`
	ShardSize int                `json:"shard_size"`
	// Precondition is "adam" for LESS's Adam gradient features, "" for
	// plain gradients (backend.FeaturesRequest).
	Precondition string `json:"precondition,omitempty"`
}

// Features outputs a sharded feature store (package grad) over the world's
// mixture: projected gradients, and the vectors norms (unprojected L2 norm),
// loss and el2n. Shards already in the folder (from a killed run) are kept.
func runFeatures(ctx context.Context, c *pipeline.Call) error {
	var p featuresParams
	if err := c.Decode(&p); err != nil {
		return err
	}
	req := backend.FeaturesRequest{
		Model: filepath.Join(c.Inputs["model"], "model"), Records: c.Inputs["records"], ImageRoot: filepath.Join(c.Inputs["world"], "images"),
		Params: p.Params, Projector: p.Projector, BatchSize: p.BatchSize, ShardSize: p.ShardSize, Precondition: p.Precondition, Out: c.Out,
		TowerTokens: c.Inputs["tokens"]}
	if c.Tasks > 1 {
		recs, err := data.Load(c.Inputs["records"])
		if err != nil {
			return err
		}
		parts, err := backend.SplitFeatures(req, len(recs), c.Tasks)
		if err != nil {
			return err
		}
		if c.Task >= len(parts) {
			return nil // more tasks than shards: nothing left for this one
		}
		req = parts[c.Task]
	}
	be, err := p.Backend.open(c)
	if err != nil {
		return err
	}
	_, err = be.Features(ctx, req, c.Progress)
	return err
}

// checkFeatures refuses a feature store that does not cover every record
// with whole, uncorrupted shards of one projector.
func checkFeatures(c *pipeline.Call) error {
	_, err := grad.OpenStore(c.Out, true)
	return err
}

type valParams struct {
	featuresParams
	Benchmarks []string `json:"benchmarks"`
	PerSuite   int      `json:"per_suite"`
}

// Valfeatures outputs a one-shard feature store of a validation set drawn
// from the benchmark suites (LESS): PerSuite questions per suite, uniformly
// (seeded), each a record answered by the suite's oracle, and groups.json,
// the suite of each row. Validation gradients are plain, never
// preconditioned (LESS pairs Adam training features with SGD validation
// ones); the planner leaves Precondition empty here.
func runValFeatures(ctx context.Context, c *pipeline.Call) error {
	var p valParams
	if err := c.Decode(&p); err != nil {
		return err
	}
	m, err := model.Load(filepath.Join(c.Inputs["model"], "model"))
	if err != nil {
		return err
	}
	w := c.Inputs["world"]
	images := model.MapImages{}
	var recs []data.Record
	var groups []string
	for _, b := range p.Benchmarks {
		qs, err := world.Questions(w, b)
		if err != nil {
			return err
		}
		f, err := world.Files(w, b)
		if err != nil {
			return err
		}
		oracle, err := world.OracleAnswers(b, filepath.Dir(f.Questions))
		if err != nil {
			return err
		}
		rng := seeds.Rand(c.Seed, b)
		for _, i := range rng.Perm(len(qs))[:min(p.PerSuite, len(qs))] {
			q := qs[i]
			key := ""
			switch {
			case q.Embedded != nil:
				key = fmt.Sprintf("%s/%d", b, i)
				images[key] = q.Embedded
			case q.Image != "":
				key = fmt.Sprintf("%s/%d", b, i)
				img, err := (model.DirImages{Root: f.Images}).Image(q.Image)
				if err != nil {
					return err
				}
				images[key] = img
			}
			recs = append(recs, data.Record{ID: key, Image: key, Conversations: []data.Turn{{From: "human", Value: q.Answer.Prompt}, {From: "gpt", Value: oracle[i].Text}}})
			groups = append(groups, b)
		}
	}
	cfg := grad.Config{Params: p.Params, Projectors: []grad.ProjectorSpec{p.Projector}, BatchSize: p.BatchSize}
	ps, err := grad.Projectors(m, cfg)
	if err != nil {
		return err
	}
	d := ps[0].ID().Dim
	feats := make([]float32, len(recs)*d)
	err = grad.Extract(ctx, m, recs, images, cfg, func(i int, f grad.Feature) error {
		copy(feats[i*d:], f.Proj[0])
		return nil
	})
	if err != nil {
		return err
	}
	sw := &grad.ShardWriter{Dir: c.Out, Projector: ps[0].ID(), Records: len(recs)}
	if err := sw.Write(0, len(recs), feats, nil); err != nil {
		return err
	}
	return pipeline.WriteJSON(filepath.Join(c.Out, "groups.json"), groups)
}
