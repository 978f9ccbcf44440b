package model

import (
	"context"
	"math"
	"math/rand/v2"
	"testing"
)

// TestKVCacheMatchesFullForward: a model with random LoRA adapters (so the
// cached path goes through them too) and sharp attention decodes synthetic prompts step by step;
// at every step the logits of decodeStep equal those of a full forward pass
// over prompt + generated tokens within 1e-4, and Generate returns what
// greedy decoding over full forward passes returns; with learned positions
// and with RoPE.
func TestKVCacheMatchesFullForward(t *testing.T) {
	for _, v := range []string{"learned", "rope", "rope+sink"} {
		t.Run(v, func(t *testing.T) {
			cfg := DefaultConfig()
			cfg.RoPE = v != "learned"
			cfg.Sink = v == "rope+sink"
			kvMatchesFull(t, cfg)
		})
	}
}

func kvMatchesFull(t *testing.T, cfg Config) {
	recs, imgs := Synthetic(20, 7)
	m, err := New(cfg, BuildVocab(recs, 1), 3)
	if err != nil {
		t.Fatal(err)
	}
	if err := m.AttachLoRA(LoRAConfig{Rank: 4, Alpha: 8}, 5); err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for _, p := range m.params {
		if len(p.Name) > 6 && p.Name[len(p.Name)-6:] == "lora_B" {
			for i := range p.W {
				p.W[i] = float32(rng.NormFloat64() * 0.05)
			}
		}
	}
	// Peaked attention, so that a wrong key, value or scale shows, and
	// sinks that take a good share of it.
	for _, blk := range m.Blocks {
		if blk.Attn.Sink != nil {
			for h := range blk.Attn.Sink.W {
				blk.Attn.Sink.W[h] = 4 + float32(h)
			}
		}
		for _, l := range []*Linear{blk.Q, blk.K} {
			for i := range l.W.W {
				l.W.W[i] *= 20
			}
		}
	}
	prompts := make([]Prompt, len(recs))
	exs := make([]encoded, len(recs))
	for i, r := range recs {
		prompts[i] = Prompt{Image: r.Image, Text: r.Conversations[0].Value}
		if exs[i], err = m.encodePrompt(prompts[i]); err != nil {
			t.Fatal(err)
		}
	}
	cache := newImageCache(imgs, m.Cfg.ImageSize)
	V := m.Vocab.Size()
	full := func(exs []encoded) []float32 {
		b, err := m.newBatch(exs, cache, false)
		if err != nil {
			t.Fatal(err)
		}
		m.forward(b, nil)
		return append([]float32(nil), m.act.logits...)
	}
	active := make([]int, len(exs))
	for i := range active {
		active[i] = i
	}
	b, err := m.newBatch(exs, cache, false)
	if err != nil {
		t.Fatal(err)
	}
	m.forward(b, nil)
	kv := m.newKVCache(b, active, len(exs), 6)
	want := append([]float32(nil), m.act.logits...)
	const steps = 6
	for step := range steps {
		// Append a token to every sequence (a different word each time),
		// then compare the cached step with the full pass.
		for i := range exs {
			exs[i].tokens = append(exs[i].tokens, int32(numSpecial+(i*7+step*3)%(V-numSpecial)))
		}
		got := m.decodeStep(kv, active, exs)
		want = full(exs)
		worst := 0.0
		for i := range want {
			worst = math.Max(worst, math.Abs(float64(got[i]-want[i])))
		}
		if worst > 1e-4 {
			t.Fatalf("step %d: cached logits differ from the full pass by %g", step+1, worst)
		}
	}

	out, err := Generate(context.Background(), m, prompts, imgs, 8)
	if err != nil {
		t.Fatal(err)
	}
	for i, p := range prompts {
		e, _ := m.encodePrompt(p)
		var gen []int32
		for range 8 {
			best := greedyNext(full([]encoded{e})[:V])
			if best == EosTok {
				break
			}
			gen = append(gen, best)
			e.tokens = append(e.tokens, best)
		}
		if ref := m.Vocab.Decode(gen); out[i] != ref {
			t.Errorf("prompt %d: cached decoding %q, full passes %q", i, out[i], ref)
		}
	}
}
