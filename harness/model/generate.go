package model

import (
	"context"
	"fmt"
	"math"

	"github.com/tive-dev/tive/harness/internal/kernels"
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
// until </s>, and returns the detokenised answers in prompt order. The first
// step runs the whole prompts (vision encoder included) and keeps every
// decoder block's keys and values; each later step runs only the newest
// token of each unfinished prompt through the decoder, attending over the
// kept keys and values (a KV cache). Its logits are those of a full forward
// pass over prompt + generated tokens up to float rounding (a test checks
// that both decode the same). Tokens other than words, the newline and </s>
// are never chosen.
func Generate(ctx context.Context, m *Model, prompts []Prompt, images ImageSource, maxNew int) ([]string, error) {
	cache := m.imageCache(images, false)
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
		var kv *kvCache
		for step := 0; step < maxNew && len(active) > 0; step++ {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
			var logits []float32
			if kv == nil {
				cur := make([]encoded, len(active))
				for j, i := range active {
					cur[j] = exs[i]
				}
				b, err := m.newBatch(cur, cache, false)
				if err != nil {
					return nil, err
				}
				m.forward(b, nil)
				kv = m.newKVCache(b, active, len(exs), maxNew)
				logits = m.act.logits
			} else {
				logits = m.decodeStep(kv, active, exs)
			}
			next := active[:0]
			for j, i := range active {
				best := greedyNext(logits[j*V : (j+1)*V])
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

// greedyNext is the token of largest logit among the words, the newline and
// </s> (ties: </s>, then the lowest word, then the newline).
func greedyNext(z []float32) int32 {
	best := int32(EosTok)
	for v := numSpecial; v < len(z); v++ {
		if z[v] > z[best] {
			best = int32(v)
		}
	}
	if z[NewlineTok] > z[best] {
		best = NewlineTok
	}
	return best
}

// kvCache holds, per decoder block and sequence of a decoding batch, the
// keys and values of every position run so far ([T, D] row-major).
type kvCache struct {
	k, v [][][]float32 // [block][sequence]
	buf  kvBuffers
}

// kvBuffers are one decoding step's activations, reused across steps.
type kvBuffers struct {
	x, ln, q, k, v, att, o, u, fc, act, lnf, logits []float32
}

// newKVCache keeps the keys and values that the full forward pass over b
// left in each decoder block, with room for maxNew more positions; b's
// sequence j is the decoding batch's sequence active[j] of n.
func (m *Model) newKVCache(b *batch, active []int, n, maxNew int) *kvCache {
	d := m.Cfg.Width
	kv := &kvCache{k: make([][][]float32, len(m.Blocks)), v: make([][][]float32, len(m.Blocks))}
	for l, blk := range m.Blocks {
		kv.k[l], kv.v[l] = make([][]float32, n), make([][]float32, n)
		for j, i := range active {
			lo, hi := b.off[j]*d, b.off[j+1]*d
			kv.k[l][i] = append(make([]float32, 0, hi-lo+maxNew*d), blk.k[lo:hi]...)
			kv.v[l][i] = append(make([]float32, 0, hi-lo+maxNew*d), blk.v[lo:hi]...)
		}
	}
	return kv
}

// decodeStep runs the last token of each sequence exs[i], i in active, at
// position len(exs[i].tokens)−1 through the decoder, appending its keys
// and values to kv, and returns the logits [len(active), V]: per block
//
//	u = x + O(softmax(q·Kᵀ/√d)·V) over the cached K, V and this position's,
//	(q and k rotated to this position with RoPE)
//	y = u + Proj(GELU(FC(LN2 u))),  q, k, v = Q, K, V(LN1 x),
//
// the block's forward pass restricted to one causal row.
func (m *Model) decodeStep(kv *kvCache, active []int, exs []encoded) []float32 {
	d, n := m.Cfg.Width, len(active)
	bf := &kv.buf
	bf.x = grow(bf.x, n*d)
	for j, i := range active {
		t := len(exs[i].tokens) - 1
		row := bf.x[j*d : (j+1)*d]
		tok := int(exs[i].tokens[t])
		copy(row, m.Emb.Tok.W[tok*d:(tok+1)*d])
		if m.Emb.Pos != nil {
			axpy(row, 1, m.Emb.Pos.W[t*d:(t+1)*d])
		}
	}
	for _, p := range []*[]float32{&bf.ln, &bf.q, &bf.k, &bf.v, &bf.att, &bf.o, &bf.u} {
		*p = grow(*p, n*d)
	}
	for l, blk := range m.Blocks {
		blk.LN1.Forward(bf.ln, bf.x, n)
		blk.Q.Forward(bf.q, bf.ln, n, nil)
		blk.K.Forward(bf.k, bf.ln, n, nil)
		blk.V.Forward(bf.v, bf.ln, n, nil)
		if blk.Rope != nil {
			for j, i := range active {
				t := len(exs[i].tokens) - 1
				blk.Rope.rotate(bf.q[j*d:(j+1)*d], t, false)
				blk.Rope.rotate(bf.k[j*d:(j+1)*d], t, false)
			}
		}
		for j, i := range active {
			kv.k[l][i] = append(kv.k[l][i], bf.k[j*d:(j+1)*d]...)
			kv.v[l][i] = append(kv.v[l][i], bf.v[j*d:(j+1)*d]...)
		}
		at := &blk.Attn
		at.each(n, func(w, j, h int) {
			at.scratch[w] = kvAttend(bf.att[j*d:(j+1)*d], bf.q[j*d:(j+1)*d], kv.k[l][active[j]], kv.v[l][active[j]], d, at.H, h, at.Sink, at.scratch[w])
		})
		blk.O.Forward(bf.o, bf.att, n, nil)
		copy(bf.u, bf.x)
		axpy(bf.u, 1, bf.o)
		blk.LN2.Forward(bf.ln, bf.u, n)
		bf.fc = grow(bf.fc, n*blk.Hidden)
		bf.act = grow(bf.act, n*blk.Hidden)
		blk.FC.Forward(bf.fc, bf.ln, n, nil)
		blk.Act.Forward(bf.act, bf.fc)
		blk.Proj.Forward(bf.x, bf.act, n, nil)
		axpy(bf.x, 1, bf.u)
	}
	bf.lnf = grow(bf.lnf, n*d)
	m.LNF.Forward(bf.lnf, bf.x, n)
	bf.logits = grow(bf.logits, n*m.Vocab.Size())
	m.Head.Forward(bf.logits, bf.lnf, n, nil)
	return bf.logits
}

// kvAttend writes head h of one query row's attention output:
// o_h = Σ_t softmax_t(q_h·K_t,h/√d_h) V_t,h over the T = len(k)/D cached rows
// (and a sink of logit sink.W[h] and value zero when sink is not nil).
// The scores go into scratch (grown as needed), which it returns.
func kvAttend(o, q, k, v []float32, D, heads, h int, sink *Param, scratch []float32) []float32 {
	hd := D / heads
	c := h * hd
	T := len(k) / D
	scale := float32(1 / math.Sqrt(float64(hd)))
	s := grow(scratch, T)
	mx := float32(math.Inf(-1))
	for t := range T {
		var dot float32
		kr := k[t*D+c : t*D+c+hd]
		for i, qi := range q[c : c+hd] {
			dot += qi * kr[i]
		}
		s[t] = dot * scale
		mx = max(mx, s[t])
	}
	if sink != nil {
		mx = max(mx, sink.W[h])
	}
	var sum float32
	for t := range s {
		s[t] = kernels.Exp32(s[t] - mx)
		sum += s[t]
	}
	if sink != nil {
		sum += kernels.Exp32(sink.W[h] - mx)
	}
	out := o[c : c+hd]
	clear(out)
	for t, p := range s {
		axpy(out, p/sum, v[t*D+c:t*D+c+hd])
	}
	return s
}
