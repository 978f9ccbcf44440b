package model

import (
	"context"
	"errors"
	"fmt"
	"image"
	"math"
	"strings"

	"github.com/tive-dev/tive/harness/internal/kernels"
)

// Word tokens (Config.WordTokens) are the built-in model's answer to a
// measured failure of LLaVA's continuous projector at this scale: a decoder
// of width 64 trained on text alone reads a scene stated as one word per
// visual token (the name of what covers the patch) nearly as well as a
// sentence, but it does not read the projector's continuous outputs, even
// where their nearest words are right (README, "Word tokens"). So each
// visual token enters the decoder as the embedding of its nearest word,
// as language-quantised autoencoders do (LQAE, Liu et al. 2023):
//
//	v_p = E[w_p],  w_p = argmax_{w ≥ numSpecial} ⟨o_p, E[w]⟩ / ‖E[w]‖
//
// for the projector's output o_p and the decoder's token embeddings E (the
// cosine, since ‖o_p‖ is common to all w). Backward passes ∂L/∂v_p to o_p
// unchanged (straight through), and E gets no gradient from visual rows.

// snapWords replaces each of the nv rows of vis (the projector's outputs
// [nv, D]) by the embedding of its nearest word.
func (m *Model) snapWords(vis []float32, nv int) {
	d, e := m.Cfg.Width, m.Emb.Tok.W
	for r, w := range m.nearestWords(vis, nv) {
		copy(vis[r*d:(r+1)*d], e[int(w)*d:(int(w)+1)*d])
	}
}

// nearestWords is, for each of the nv rows of vis, the word w ≥ numSpecial
// of largest ⟨row, E[w]⟩/‖E[w]‖ (ties: the lowest id).
func (m *Model) nearestWords(vis []float32, nv int) []int32 {
	d, V := m.Cfg.Width, m.Vocab.Size()
	e := m.Emb.Tok.W
	a := &m.act
	a.wordDots, a.wordInv = grow(a.wordDots, nv*V), grow(a.wordInv, V)
	kernels.Sgemm(false, true, nv, V, d, 1, vis[:nv*d], d, e, d, 0, a.wordDots, V)
	inv := a.wordInv
	for w := numSpecial; w < V; w++ {
		inv[w] = 0
		if n := m.wordNorm(w); n > 0 {
			inv[w] = float32(1 / n)
		}
	}
	out := make([]int32, nv)
	for r := range nv {
		dots := a.wordDots[r*V : (r+1)*V]
		best := numSpecial
		for w := numSpecial + 1; w < V; w++ {
			if dots[w]*inv[w] > dots[best]*inv[best] {
				best = w
			}
		}
		out[r] = int32(best)
	}
	return out
}

// wordNorm is ‖E[w]‖, in float64.
func (m *Model) wordNorm(w int) float64 {
	d := m.Cfg.Width
	var s float64
	for _, x := range m.Emb.Tok.W[w*d : (w+1)*d] {
		s += float64(x) * float64(x)
	}
	return math.Sqrt(s)
}

// AlignWords trains m's projector alone (tower and decoder fixed) so that
// each visual token rounds to the word that should stand for its patch:
// words[i][p] is the id, in m's vocabulary, of token p of image i
// (row-major patches, as Config.TokenObjects). The loss is the mean over a
// batch's tokens of the cross-entropy of w_p among the words under the
// logits z_pw = ⟨o_p, E[w]⟩/‖E[w]‖, whose argmax is the word snapWords
// puts in (the norm of o_p is the inverse temperature, learned). Schedule,
// order and optimizer are Train's (BatchSize images a step, Epochs passes,
// AdamW, cosine schedule with warm-up, clipping, permutations from
// PCG(tc.Seed, epoch)).
func AlignWords(ctx context.Context, m *Model, imgs []image.Image, words [][]int32, tc TrainConfig, progress func(done, total int)) (*TowerResult, error) {
	tc = tc.withDefaults()
	P, V := m.Cfg.visualTokens(), m.Vocab.Size()
	if len(imgs) == 0 || len(imgs) != len(words) {
		return nil, fmt.Errorf("model: word alignment needs images and one word list each, got %d and %d", len(imgs), len(words))
	}
	for i, ws := range words {
		if len(ws) != P {
			return nil, fmt.Errorf("model: image %d has %d words for %d visual tokens", i, len(ws), P)
		}
		for _, w := range ws {
			if w < numSpecial || int(w) >= V {
				return nil, fmt.Errorf("model: image %d: word id %d is not a word of the vocabulary", i, w)
			}
		}
	}
	params := m.trainOnly("projector.")
	defer m.thaw()
	ab := m.newAlignBatch()
	losses, err := stepLoop(ctx, len(imgs), tc, params, func(batch []int) float64 {
		ab.px, ab.y = ab.px[:0], ab.y[:0]
		for _, i := range batch {
			ab.px = append(ab.px, pixels(imgs[i], m.Cfg.ImageSize))
			for _, w := range words[i] {
				ab.y = append(ab.y, w-numSpecial)
			}
		}
		return m.alignStep(ab, true)
	}, progress)
	return &TowerResult{Steps: tc.Steps(len(imgs)), Losses: losses}, err
}

// alignBatch is one step of word alignment: images (channel-major pixels),
// each token's word as an index among the words (id − numSpecial), the
// unit embeddings E[w]/‖E[w]‖ of the words [V − numSpecial, D], and
// buffers.
type alignBatch struct {
	px                          [][]uint8
	y                           []int32
	unit                        []float32
	ce                          CrossEntropy
	logits, w, loss, el2n, dvis []float32
}

func (m *Model) newAlignBatch() *alignBatch {
	d, nw := m.Cfg.Width, m.Vocab.Size()-numSpecial
	ab := &alignBatch{unit: make([]float32, nw*d), ce: CrossEntropy{V: nw}}
	for w := range nw {
		n := m.wordNorm(w + numSpecial)
		if n == 0 {
			continue
		}
		for c, x := range m.Emb.Tok.W[(w+numSpecial)*d : (w+numSpecial+1)*d] {
			ab.unit[w*d+c] = float32(float64(x) / n)
		}
	}
	return ab
}

// alignStep returns AlignWords' loss on ab and, when backward, accumulates
// its gradient into the projector's parameters:
// ∂L/∂o_p = Σ_w (softmax(z_p)_w − [w = w_p]) E[w]/‖E[w]‖ / n.
func (m *Model) alignStep(ab *alignBatch, backward bool) float64 {
	d, nw := m.Cfg.Width, ab.ce.V
	h := m.Cfg.projectorWidth()
	nv := len(ab.y)
	a := &m.act
	m.towerForward(ab.px)
	m.project(nv)
	ab.logits, ab.w = grow(ab.logits, nv*nw), grow(ab.w, nv)
	ab.loss, ab.el2n, ab.dvis = grow(ab.loss, nv), grow(ab.el2n, nv), grow(ab.dvis, nv*d)
	for r := range ab.w {
		ab.w[r] = 1 / float32(nv)
	}
	kernels.Sgemm(false, true, nv, nw, d, 1, a.vis[:nv*d], d, ab.unit, d, 0, ab.logits, nw)
	ab.ce.Forward(ab.logits, ab.y, ab.w, ab.loss, ab.el2n)
	var sum float64
	for _, l := range ab.loss {
		sum += float64(l)
	}
	if backward {
		ab.ce.Backward(ab.logits)
		kernels.Sgemm(false, false, nv, d, nw, 1, ab.logits, nw, ab.unit, d, 0, ab.dvis, d)
		a.dp1a, a.dp1 = grow(a.dp1a, nv*h), grow(a.dp1, nv*h)
		m.Proj2.Backward(a.dp1a, ab.dvis, true, false)
		m.projAct.Backward(a.dp1, a.dp1a)
		m.Proj1.Backward(nil, a.dp1, true, false)
	}
	return sum / float64(nv)
}

// CopyDecoder sets m's decoder (every parameter outside the vision tower
// and the projector: embeddings, blocks, final norm, head) to src's. The
// two must share the vocabulary and the decoder's shape.
func (m *Model) CopyDecoder(src *Model) error {
	if strings.Join(m.Vocab.Words, "\x00") != strings.Join(src.Vocab.Words, "\x00") {
		return errors.New("model: the source model has another vocabulary")
	}
	return m.copyFrom(src, "decoder", func(name string) bool {
		return !strings.HasPrefix(name, "vision.") && !strings.HasPrefix(name, "projector.")
	})
}

// VisualWords is, for each image, the word id each of its visual tokens
// enters the decoder as (a WordTokens model; row-major patches), 64 images
// at a time.
func VisualWords(m *Model, imgs []image.Image) [][]int32 {
	P := m.Cfg.visualTokens()
	out := make([][]int32, len(imgs))
	for lo := 0; lo < len(imgs); lo += 64 {
		hi := min(lo+64, len(imgs))
		var px [][]uint8
		for _, im := range imgs[lo:hi] {
			px = append(px, pixels(im, m.Cfg.ImageSize))
		}
		nv := len(px) * P
		m.towerForward(px)
		m.project(nv)
		best := m.nearestWords(m.act.vis, nv)
		for i := lo; i < hi; i++ {
			out[i] = best[(i-lo)*P : (i-lo+1)*P]
		}
	}
	return out
}
