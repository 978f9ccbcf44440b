package model

import (
	"context"
	"fmt"
)

// Prompt is one question for decoding: an image path ("" for text only) and
// the human text (with or without the <image> marker).
type Prompt struct {
	Image string
	Text  string
}

// generateBatch is the number of prompts decoded together.
const generateBatch = 64

// Generate decodes greedily, in batches, up to maxNew tokens per prompt or
// until </s>, and returns the detokenised answers in prompt order. Each step
// reruns the full forward pass on prompt + generated tokens (no KV cache);
// only the last position's logits are computed. Tokens other than words,
// the newline and </s> are never chosen.
func Generate(ctx context.Context, m *Model, prompts []Prompt, images ImageSource, maxNew int) ([]string, error) {
	cache := newImageCache(images, m.Cfg.ImageSize)
	out := make([]string, len(prompts))
	V := m.Vocab.Size()
	for lo := 0; lo < len(prompts); lo += generateBatch {
		hi := min(lo+generateBatch, len(prompts))
		exs := make([]encoded, hi-lo)
		gen := make([][]int32, hi-lo)
		for i := range exs {
			e, err := m.encodePrompt(prompts[lo+i])
			if err != nil {
				return nil, fmt.Errorf("model: prompt %d: %w", lo+i, err)
			}
			exs[i] = e
		}
		active := make([]int, 0, len(exs))
		for i := range exs {
			if len(exs[i].tokens) < m.Cfg.MaxLen {
				active = append(active, i)
			}
		}
		for step := 0; step < maxNew && len(active) > 0; step++ {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
			cur := make([]encoded, len(active))
			for j, i := range active {
				cur[j] = exs[i]
			}
			b, err := m.newBatch(cur, cache, false)
			if err != nil {
				return nil, err
			}
			m.forward(b, nil)
			next := active[:0]
			for j, i := range active {
				z := m.act.logits[j*V : (j+1)*V]
				best := int32(EosTok)
				for v := numSpecial; v < V; v++ {
					if z[v] > z[best] {
						best = int32(v)
					}
				}
				if z[NewlineTok] > z[best] {
					best = NewlineTok
				}
				if best == EosTok {
					continue
				}
				gen[i] = append(gen[i], best)
				exs[i].tokens = append(exs[i].tokens, best)
				if len(exs[i].tokens) < m.Cfg.MaxLen {
					next = append(next, i)
				}
			}
			active = next
		}
		for i := range exs {
			out[lo+i] = m.Vocab.Decode(gen[i])
		}
	}
	return out, nil
}
