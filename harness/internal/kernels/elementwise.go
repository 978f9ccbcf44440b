package kernels

import (
	"fmt"
	"math"
)

// The element-wise kernels of the built-in model. The native back end runs
// them as C (native.h, vectorised by the compiler), the gonum back end as
// the Go loops below; both compute the same formulas in float32 but most
// round differently, which Backend's name accounts for (AdamW and AddRows
// give the same bytes on both). Each entry point reslices or bounds-checks
// its slices before the back end sees them.

// GELUForward writes y = ½x(1 + t) and t = tanh(c(x + 0.044715x³)),
// c = √(2/π), over x (GELU's tanh approximation; t is kept for Backward).
func GELUForward(y, t, x []float32) {
	if len(x) == 0 {
		return
	}
	y, t = y[:len(x)], t[:len(x)]
	cur.geluForward(y, t, x)
}

// GELUBackward writes dx = dy·(½(1 + t) + ½x(1 − t²)·c(1 + 3·0.044715x²)).
func GELUBackward(dx, dy, x, t []float32) {
	if len(x) == 0 {
		return
	}
	dx, dy, t = dx[:len(x)], dy[:len(x)], t[:len(x)]
	cur.geluBackward(dx, dy, x, t)
}

// LayerNormForward writes, per row of x [rows, d], y = (x − μ)·r·g + b with
// μ the row mean, r = 1/√(σ² + 1e-5), σ² the biased row variance, and keeps
// μ and r in mean and rstd.
func LayerNormForward(y, mean, rstd, x, g, b []float32, rows, d int) {
	if rows == 0 {
		return
	}
	_, _, _, _ = y[rows*d-1], x[rows*d-1], mean[rows-1], rstd[rows-1]
	_, _ = g[d-1], b[d-1]
	cur.layerNormForward(y, mean, rstd, x, g, b, rows, d)
}

// LayerNormBackward adds, per row, ∂L/∂x = r·(δ⊙g − mean(δ⊙g) −
// x̂·mean(δ⊙g⊙x̂)) to dx (skipped when dx is nil), with x̂ = (x − μ)·r and
// δ = dy, and adds Σ_rows δ⊙x̂ and Σ_rows δ to pg and pb (skipped when
// they are nil).
func LayerNormBackward(dx, pg, pb, x, dy, g, mean, rstd []float32, rows, d int) {
	if rows == 0 {
		return
	}
	_, _, _, _, _ = x[rows*d-1], dy[rows*d-1], mean[rows-1], rstd[rows-1], g[d-1]
	if dx != nil {
		_ = dx[rows*d-1]
	}
	if pg != nil {
		_, _ = pg[d-1], pb[d-1]
	}
	cur.layerNormBackward(dx, pg, pb, x, dy, g, mean, rstd, rows, d)
}

// Attn is one sequence and head of attention: T rows of HD values at row
// stride LD in each of q, k, v and o (a head's columns of [T, D] matrices),
// scores scaled by Scale, Causal rows stopping at the diagonal.
type Attn struct {
	T, HD, LD int
	Scale     float32
	Causal    bool
	// Sinked adds exp(Sink) to every softmax denominator: a learned logit
	// of a key whose value is zero (an attention sink), so that a row can
	// attend to nothing, its weights summing to less than one.
	Sinked bool
	Sink   float32
}

// ScratchLen is the scratch AttentionForward and AttentionBackward need:
// ∂P or ∂S (T·T) and, on the native back end, Kᵀ or Vᵀ with rows padded to
// a multiple of 8.
func (a Attn) ScratchLen() int { return a.T*a.T + a.HD*((a.T+7)/8*8) }

// check panics unless the slices hold the shape: head matrices of
// (T−1)·LD+HD values, P of T·T, scratch of ScratchLen.
func (a Attn) check(p, scratch []float32, mats ...[]float32) {
	if a.T <= 0 {
		return
	}
	n := (a.T-1)*a.LD + a.HD
	if a.HD <= 0 || a.LD < a.HD || len(p) < a.T*a.T || len(scratch) < a.ScratchLen() {
		panic(fmt.Sprintf("kernels: attention T=%d HD=%d LD=%d with P of %d and scratch of %d", a.T, a.HD, a.LD, len(p), len(scratch)))
	}
	for _, m := range mats {
		_ = m[n-1]
	}
}

// AttentionForward writes o = PV and p = P for one sequence and head:
// S = Scale·QKᵀ, P = softmax over each row's j ≤ i (Causal) or all j (with
// exp(Sink) added to each denominator when Sinked), with P's masked entries
// zero. scratch holds ScratchLen values.
func AttentionForward(a Attn, o, p, q, k, v, scratch []float32) {
	a.check(p, scratch, o, q, k, v)
	if a.T > 0 {
		cur.attentionForward(a, o, p, q, k, v, scratch)
	}
}

// AttentionBackward writes (overwriting) ∂Q = ∂S·K, ∂K = ∂Sᵀ·Q and
// ∂V = Pᵀ·∂O for one sequence and head, where ∂P = ∂O·Vᵀ and
// ∂S = Scale·P⊙(∂P − rowsum(P⊙∂P)).
func AttentionBackward(a Attn, dq, dk, dv, do, p, q, k, v, scratch []float32) {
	a.check(p, scratch, dq, dk, dv, do, q, k, v)
	if a.T > 0 {
		cur.attentionBackward(a, dq, dk, dv, do, p, q, k, v, scratch)
	}
}

// The gonum back end computes attention as four GEMMs around the softmax
// (causal ones compute the masked half too).
func (g gonumImpl) attentionForward(a Attn, o, p, q, k, v, _ []float32) {
	t := a.T
	g.sgemm(false, true, t, t, a.HD, a.Scale, q, a.LD, k, a.LD, 0, p, t)
	g.softmaxRows(p[:t*t], t, t, a.Causal, a.Sinked, a.Sink)
	g.sgemm(false, false, t, a.HD, t, 1, p, t, v, a.LD, 0, o, a.LD)
}

func (g gonumImpl) attentionBackward(a Attn, dq, dk, dv, do, p, q, k, v, scratch []float32) {
	t := a.T
	dp := scratch[:t*t]
	g.sgemm(false, true, t, t, a.HD, 1, do, a.LD, v, a.LD, 0, dp, t)
	g.softmaxBackward(dp, p[:t*t], t, t, a.Scale)
	g.sgemm(false, false, t, a.HD, t, 1, dp, t, k, a.LD, 0, dq, a.LD)
	g.sgemm(true, false, t, a.HD, t, 1, dp, t, q, a.LD, 0, dk, a.LD)
	g.sgemm(true, false, t, a.HD, t, 1, p, t, do, a.LD, 0, dv, a.LD)
}

const geluC = 0.7978845608028654 // √(2/π)

func (gonumImpl) geluForward(y, t, x []float32) {
	for i, v := range x {
		th := tanh32(geluC * (v + 0.044715*v*v*v))
		t[i] = th
		y[i] = 0.5 * v * (1 + th)
	}
}

func (gonumImpl) geluBackward(dx, dy, x, t []float32) {
	for i, v := range x {
		th := t[i]
		dx[i] = dy[i] * (0.5*(1+th) + 0.5*v*(1-th*th)*geluC*(1+3*0.044715*v*v))
	}
}

func (gonumImpl) softmaxRows(p []float32, rows, cols int, causal, sinked bool, sink float32) {
	for i := range rows {
		row := p[i*cols : (i+1)*cols]
		last := cols
		if causal {
			last = i + 1
		}
		mx := row[0]
		for _, s := range row[:last] {
			mx = max(mx, s)
		}
		if sinked {
			mx = max(mx, sink)
		}
		var sum float32
		for j, s := range row[:last] {
			e := Exp32(s - mx)
			row[j] = e
			sum += e
		}
		if sinked {
			sum += Exp32(sink - mx)
		}
		inv := 1 / sum
		for j := range row[:last] {
			row[j] *= inv
		}
		clear(row[last:])
	}
}

func (gonumImpl) softmaxBackward(dp, p []float32, rows, cols int, scale float32) {
	for i := range rows {
		pr, dr := p[i*cols:(i+1)*cols], dp[i*cols:(i+1)*cols]
		var s float32
		for j, v := range pr {
			s += v * dr[j]
		}
		for j, pv := range pr {
			dr[j] = pv * (dr[j] - s) * scale
		}
	}
}

func (gonumImpl) layerNormForward(y, mean, rstd, x, g, b []float32, rows, d int) {
	for r := range rows {
		row := x[r*d : (r+1)*d]
		var m float32
		for _, v := range row {
			m += v
		}
		m /= float32(d)
		var s float32
		for _, v := range row {
			s += (v - m) * (v - m)
		}
		rs := 1 / float32(math.Sqrt(float64(s/float32(d)+1e-5)))
		mean[r], rstd[r] = m, rs
		out := y[r*d : (r+1)*d]
		for i, v := range row {
			out[i] = (v-m)*rs*g[i] + b[i]
		}
	}
}

func (gonumImpl) layerNormBackward(dx, pg, pb, x, dy, g, mean, rstd []float32, rows, d int) {
	for r := range rows {
		row := x[r*d : (r+1)*d]
		dr := dy[r*d : (r+1)*d]
		m, rs := mean[r], rstd[r]
		var s1, s2 float32
		for i, v := range row {
			xh := (v - m) * rs
			dg := dr[i] * g[i]
			s1 += dg
			s2 += dg * xh
			if pg != nil {
				pg[i] += dr[i] * xh
				pb[i] += dr[i]
			}
		}
		if dx == nil {
			continue
		}
		s1 /= float32(d)
		s2 /= float32(d)
		out := dx[r*d : (r+1)*d]
		for i, v := range row {
			xh := (v - m) * rs
			out[i] += rs * (dr[i]*g[i] - s1 - xh*s2)
		}
	}
}

// AddRows adds the rows of x [rows, cols] to dst [cols]: dst_j += x_r,j for
// r in order. Both back ends give the same bytes.
func AddRows(dst, x []float32, rows, cols int) {
	if rows == 0 || cols == 0 {
		return
	}
	dst, x = dst[:cols], x[:rows*cols]
	cur.addRows(dst, x, rows, cols)
}

func (gonumImpl) addRows(dst, x []float32, rows, cols int) {
	for r := range rows {
		for j, v := range x[r*cols : (r+1)*cols] {
			dst[j] += v
		}
	}
}

// SoftmaxRows turns each row z_r of z [len(sq), V] into its softmax in
// place, p_i = float32(e_i / Σ_j e_j) with e_i = Exp32(z_ri − max_j z_rj)
// and the sum and the division in float64 (in index order), and writes
// Σ_i p_i² (the float64 p_i, in index order) to sq[r]. Both back ends give
// the same bytes (the native one vectorises the exponentials only).
func SoftmaxRows(z []float32, sq []float64, V int) {
	if len(sq) == 0 || V == 0 {
		return
	}
	z = z[:len(sq)*V]
	cur.softmaxSq(z, sq, V)
}

func (gonumImpl) softmaxSq(z []float32, sq []float64, V int) {
	for r := range sq {
		zr := z[r*V : (r+1)*V]
		mx := zr[0]
		for _, v := range zr {
			mx = max(mx, v)
		}
		var s float64
		for i, v := range zr {
			p := float64(Exp32(v - mx))
			zr[i] = float32(p)
			s += p
		}
		inv := 1 / s
		var e2 float64
		for i := range zr {
			p := float64(zr[i]) * inv
			zr[i] = float32(p)
			e2 += p * p
		}
		sq[r] = e2
	}
}

// AdamStep is one AdamW step's constants: Beta1, Beta2, Decay = 1 − lr·λ,
// LR = lr/(1 − β₁ᵗ), S2 = 1/√(1 − β₂ᵗ) and Eps.
type AdamStep struct {
	Beta1, Beta2, Decay, LR, S2, Eps float32
}

// AdamW updates w, m and v element by element from the gradient g:
//
//	m ← β₁m + (1−β₁)g, v ← β₂v + (1−β₂)g·g, w ← w·Decay − LR·m/(√v·S2 + Eps).
//
// Both back ends give the same bytes (the same float32 operations in the
// same order, a correctly rounded square root).
func AdamW(w, g, m, v []float32, h AdamStep) {
	if len(w) == 0 {
		return
	}
	g, m, v = g[:len(w)], m[:len(w)], v[:len(w)]
	cur.adamW(w, g, m, v, h)
}

func (gonumImpl) adamW(w, g, m, v []float32, h AdamStep) {
	c1, c2 := 1-h.Beta1, 1-h.Beta2
	for i, gi := range g {
		mi := h.Beta1*m[i] + c1*gi
		vi := h.Beta2*v[i] + c2*gi*gi
		m[i], v[i] = mi, vi
		w[i] = w[i]*h.Decay - h.LR*mi/(float32(math.Sqrt(float64(vi)))*h.S2+h.Eps)
	}
}

// Exp32 is eˣ in float32 within 2 ulp over the range it is used on (the
// Cephes expf scheme): x = n·ln2 + r with |r| ≤ ln2/2 (ln2 split in two
// parts so n·ln2 is exact), eʳ by a degree-7 polynomial, 2ⁿ by the exponent
// bits. Below −87.33654 (where 2ⁿ is no longer a normal float) it is 0,
// above 88.72283 +Inf. math.Exp in float64 costs twice as much.
func Exp32(x float32) float32 {
	switch {
	case x > 88.72283:
		return float32(math.Inf(1))
	case x < -87.33654:
		return 0
	}
	// Round x/ln2 to the nearest integer with the 1.5·2²³ trick: adding it
	// leaves the integer in the low mantissa bits.
	f := x*1.44269504088896341 + 12582912
	n := f - 12582912
	bits := int32(math.Float32bits(f)) - 0x4B400000
	r := x - n*0.693359375 - n*-2.12194440e-4
	p := float32(1.9875691500e-4)
	p = p*r + 1.3981999507e-3
	p = p*r + 8.3334519073e-3
	p = p*r + 4.1665795894e-2
	p = p*r + 1.6666665459e-1
	p = p*r + 5.0000001201e-1
	p = p*r*r + r + 1
	return p * math.Float32frombits(uint32(bits+127)<<23)
}

// tanh32 is tanh(x) in float32 as a ratio of an odd degree-13 and an even
// degree-6 polynomial on x clamped to ±7.9988 (Eigen's fast tanh: within
// 4e-7 of the true value, a few ulp), with tanh(x) = x below 4e-4. It needs
// no exponential.
func tanh32(x float32) float32 {
	if x > -0.0004 && x < 0.0004 {
		return x
	}
	x = min(max(x, -7.99881172180175781), 7.99881172180175781)
	x2 := x * x
	p := float32(-2.76076847742355e-16)
	p = p*x2 + 2.00018790482477e-13
	p = p*x2 + -8.60467152213735e-11
	p = p*x2 + 5.12229709037114e-08
	p = p*x2 + 1.48572235717979e-05
	p = p*x2 + 6.37261928875436e-04
	p = p*x2 + 4.89352455891786e-03
	q := float32(1.19825839466702e-06)
	q = q*x2 + 1.18534705686654e-04
	q = q*x2 + 2.26843463243900e-03
	q = q*x2 + 4.89352518554385e-03
	return x * p / q
}
