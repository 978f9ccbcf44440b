package model

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/tive-dev/tive/harness/data"
	"github.com/tive-dev/tive/harness/seeds"
)

// TrainConfig configures Train. Zero fields take the defaults named.
type TrainConfig struct {
	Epochs       int     `json:"epochs"`        // passes over the records (1)
	BatchSize    int     `json:"batch_size"`    // records per optimizer step (32)
	LR           float64 `json:"lr"`            // peak learning rate (2e-3)
	WarmupRatio  float64 `json:"warmup_ratio"`  // warm-up steps = ⌈ratio·total⌉ (0.03)
	WeightDecay  float64 `json:"weight_decay"`  // AdamW λ (0)
	Beta1        float64 `json:"beta1"`         // (0.9)
	Beta2        float64 `json:"beta2"`         // (0.999)
	Eps          float64 `json:"eps"`           // (1e-8)
	MaxGradNorm  float64 `json:"max_grad_norm"` // global-norm clip, <0 disables (1)
	FreezeVision bool    `json:"freeze_vision"` // full fine-tuning: keep the vision encoder fixed
	// FreezeDecoder trains only the vision encoder and the projector
	// (LLaVA's stage 1 on a pretrained language model).
	FreezeDecoder bool `json:"freeze_decoder,omitempty"`
	// AllTokens puts the loss on every next-token prediction of the text,
	// prompt and template included (a base language model's pretraining),
	// instead of on the response tokens only. Visual slots are never
	// targets.
	AllTokens bool `json:"all_tokens,omitempty"`
	// PromptWeight is, under AllTokens, the loss weight of a prediction
	// outside the responses relative to one inside (0 means 1: every token
	// alike). The objective is Σ_r w_r ℓ_r / Σ_r w_r over a batch's rows.
	PromptWeight    float64 `json:"prompt_weight,omitempty"`
	Seed            uint64  `json:"seed"`             // data order and LoRA dropout
	CheckpointDir   string  `json:"-"`                // "" disables checkpoints and resume
	CheckpointEvery int     `json:"checkpoint_every"` // steps between checkpoints (0: at the end only)
}

func (c TrainConfig) withDefaults() TrainConfig {
	def := func(v *float64, d float64) {
		if *v == 0 {
			*v = d
		}
	}
	if c.Epochs == 0 {
		c.Epochs = 1
	}
	if c.BatchSize == 0 {
		c.BatchSize = 32
	}
	def(&c.LR, 2e-3)
	def(&c.WarmupRatio, 0.03)
	def(&c.Beta1, 0.9)
	def(&c.Beta2, 0.999)
	def(&c.Eps, 1e-8)
	def(&c.MaxGradNorm, 1)
	return c
}

// Steps is the number of optimizer steps Train takes on n records.
func (c TrainConfig) Steps(n int) int {
	c = c.withDefaults()
	return (n + c.BatchSize - 1) / c.BatchSize * c.Epochs
}

// TrainResult summarises a Train call.
type TrainResult struct {
	Steps          int       // optimizer steps in the whole run
	Resumed        int       // steps restored from a checkpoint
	Losses         []float64 // mean response-token loss of each step run here
	Tokens         int       // tokens processed here (prompt + response)
	ResponseTokens int       // response tokens processed here
	Optimizer      *AdamW    // the optimizer's state after the last step (SaveOptimizer)
}

// Train fits m to recs. With LoRA attached (AttachLoRA) only the adapters
// and the projector train (LLaVA-1.5's finetune_lora); otherwise every
// parameter does (the vision encoder too unless FreezeVision).
//
// Step s (0-based) of epoch e = s / S, S = ⌈N/BatchSize⌉, takes records
// perm_e[(s mod S)·B : …], perm_e the permutation drawn by a PCG source
// seeded (Seed, e); LoRA dropout at step s draws from PCG(Seed, 2⁶³ + s).
// The loss is the mean cross-entropy over the response tokens of the batch.
// Updates: clip to MaxGradNorm, AdamW at the cosine-with-warm-up learning
// rate. With CheckpointDir set, Train resumes from the newest complete
// checkpoint there and writes checkpoint-<step> folders (model, optimizer
// state, manifest last) every CheckpointEvery steps and at the end; the
// resumed run gives the same bytes as an uninterrupted one.
func Train(ctx context.Context, m *Model, recs []data.Record, images ImageSource, tc TrainConfig, progress func(done, total int)) (*TrainResult, error) {
	tc = tc.withDefaults()
	if len(recs) == 0 {
		return nil, errors.New("model: no training records")
	}
	exs := make([]encoded, len(recs))
	for i := range recs {
		e, err := m.encode(&recs[i])
		if err != nil {
			return nil, err
		}
		tc.setTargets(&e)
		exs[i] = e
	}
	m.setTrainable(tc.FreezeVision, tc.FreezeDecoder)
	opt := newAdamW(tc.Beta1, tc.Beta2, tc.Eps, tc.WeightDecay)
	n, bs := len(recs), tc.BatchSize
	spe := (n + bs - 1) / bs
	total := tc.Steps(n)
	warm := int(math.Ceil(float64(total) * tc.WarmupRatio))
	res := &TrainResult{Steps: total, Optimizer: opt}
	start := 0
	if tc.CheckpointDir != "" {
		s, err := resume(tc.CheckpointDir, m, opt, tc, total)
		if err != nil {
			return nil, err
		}
		start, res.Resumed = s, s
	}
	cache := m.imageCache(images, !m.towerFrozen())
	var perm []int
	permEpoch := -1
	for s := start; s < total; s++ {
		if err := ctx.Err(); err != nil {
			return res, err
		}
		ep, k := s/spe, s%spe
		if ep != permEpoch {
			perm = seeds.Rand(tc.Seed, seeds.Epoch, seeds.I(ep)).Perm(n)
			permEpoch = ep
		}
		idx := perm[k*bs : min((k+1)*bs, n)]
		cur := make([]encoded, len(idx))
		for j, i := range idx {
			cur[j] = exs[i]
		}
		b, err := m.newBatch(cur, cache, true)
		if err != nil {
			return res, err
		}
		res.Tokens += len(b.tokens)
		res.ResponseTokens += len(b.rows)
		loss := m.trainStep(b, seeds.Rand(tc.Seed, seeds.Step, seeds.I(s)), opt, cosineLR(tc.LR, s, total, warm), tc.MaxGradNorm)
		res.Losses = append(res.Losses, loss)
		if progress != nil {
			progress(s+1, total)
		}
		last := s+1 == total
		if tc.CheckpointDir != "" && (last || (tc.CheckpointEvery > 0 && (s+1)%tc.CheckpointEvery == 0)) {
			if err := saveCheckpoint(tc.CheckpointDir, m, opt, tc, s+1, total); err != nil {
				return res, err
			}
		}
	}
	return res, nil
}

// setTargets puts the loss on every next text token of e under AllTokens,
// a prompt token's weighted PromptWeight when that is set.
func (tc TrainConfig) setTargets(e *encoded) {
	if !tc.AllTokens {
		return
	}
	if tc.PromptWeight != 0 {
		e.weights = make([]float32, len(e.targets))
	}
	for t := range e.targets {
		if e.weights != nil {
			e.weights[t] = 1
		}
		if e.targets[t] < 0 && t+1 < len(e.tokens) && e.tokens[t+1] != ImageTok {
			e.targets[t] = e.tokens[t+1]
			if e.weights != nil {
				e.weights[t] = float32(tc.PromptWeight)
			}
		}
	}
}

// trainStep runs forward, backward and one AdamW update on b and returns
// the batch's loss Σ_r w_r ℓ_r / Σ_r w_r (the mean response-token loss
// when every weight is 1).
func (m *Model) trainStep(b *batch, rng *rand.Rand, opt *AdamW, lr, maxNorm float64) float64 {
	mr := len(b.rows)
	if mr == 0 {
		return 0
	}
	var sw float32 // (with every weight 1, w_r = 1/mr exactly as a plain mean)
	for _, w := range b.rw {
		sw += w
	}
	for _, p := range m.params {
		if !p.Frozen {
			zero(p.G)
		}
	}
	m.forward(b, rng)
	m.loss(func(r int) float32 { return b.rw[r] / sw })
	var loss float64
	for r, l := range m.act.loss[:mr] {
		loss += float64(b.rw[r]) * float64(l)
	}
	m.backward(true, 0)
	clipGrads(m.params, maxNorm)
	opt.Step(m.params, lr)
	return loss / float64(sw)
}

// setTrainable freezes what a run does not train.
func (m *Model) setTrainable(freezeVision, freezeDecoder bool) {
	for _, p := range m.params {
		vision, proj := strings.HasPrefix(p.Name, "vision."), strings.HasPrefix(p.Name, "projector.")
		if m.LoRA != nil {
			p.Frozen = !strings.Contains(p.Name, ".lora_") && !proj
		} else {
			p.Frozen = freezeVision && vision || freezeDecoder && !vision && !proj
		}
		if proj && m.Cfg.WordTokens {
			p.Frozen = true // AlignWords set the words; a straight-through step would move them
		}
	}
}

// trainerState is stored in a checkpoint manifest's meta.
// The optimizer's state is beside it (SaveOptimizer).
type trainerState struct {
	Step   int         `json:"step"`
	Total  int         `json:"total"`
	Config TrainConfig `json:"train_config"`
}

func saveCheckpoint(root string, m *Model, opt *AdamW, tc TrainConfig, step, total int) error {
	dir := filepath.Join(root, fmt.Sprintf("checkpoint-%08d", step))
	if err := SaveOptimizer(dir, m, opt); err != nil {
		return err
	}
	if err := Save(dir, m, trainerState{Step: step, Total: total, Config: tc}); err != nil {
		return err
	}
	// Older checkpoints are superseded once this one is complete.
	olds, _ := filepath.Glob(filepath.Join(root, "checkpoint-*"))
	for _, o := range olds {
		if o != dir {
			os.RemoveAll(o)
		}
	}
	return nil
}

// resume loads the newest complete checkpoint under root into m and opt and
// returns its step, or 0 when there is none.
func resume(root string, m *Model, opt *AdamW, tc TrainConfig, total int) (int, error) {
	dirs, _ := filepath.Glob(filepath.Join(root, "checkpoint-*"))
	sort.Sort(sort.Reverse(sort.StringSlice(dirs)))
	for _, dir := range dirs {
		man, err := ReadManifest(dir)
		if err != nil {
			continue // incomplete: the manifest is written last
		}
		raw, _ := json.Marshal(man.Meta)
		var st trainerState
		if err := json.Unmarshal(raw, &st); err != nil {
			return 0, fmt.Errorf("model: %s: trainer state: %w", dir, err)
		}
		cfgA, _ := json.Marshal(st.Config)
		cfgB, _ := json.Marshal(tc)
		if st.Total != total || string(cfgA) != string(cfgB) {
			return 0, fmt.Errorf("model: %s was written by a different run (config %s, %d steps), refusing to resume", dir, cfgA, st.Total)
		}
		ts, err := readTensors(filepath.Join(dir, man.Tensors), man.SHA256)
		if err != nil {
			return 0, err
		}
		if err := m.setParams(ts); err != nil {
			return 0, fmt.Errorf("model: %s: %w", dir, err)
		}
		saved, err := LoadOptimizer(dir)
		if err != nil {
			return 0, err
		}
		opt.M, opt.V, opt.T = saved.M, saved.V, saved.T
		return st.Step, nil
	}
	return 0, nil
}
