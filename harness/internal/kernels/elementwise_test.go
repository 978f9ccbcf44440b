package kernels

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// elementwiseCase runs every element-wise kernel on the same inputs and
// returns the outputs, in a fixed order.
func elementwiseCase() [][]float32 {
	rng := rand.New(rand.NewPCG(5, 6))
	n := 1037 // not a multiple of 8: the kernels' tails run too
	x, dy := randSlice(rng, n), randSlice(rng, n)
	for i := range x {
		x[i] *= 3
	}
	y, t, dx := make([]float32, n), make([]float32, n), make([]float32, n)
	GELUForward(y, t, x)
	GELUBackward(dx, dy, x, t)
	var out [][]float32
	for _, a := range attnCases() {
		q, k, v, do := attnInputs(rng, a)
		o, p, sc := make([]float32, len(q)), make([]float32, a.T*a.T), make([]float32, a.ScratchLen())
		dq, dk, dv := make([]float32, len(q)), make([]float32, len(q)), make([]float32, len(q))
		AttentionForward(a, o, p, q, k, v, sc)
		AttentionBackward(a, dq, dk, dv, do, p, q, k, v, sc)
		out = append(out, o, p, dq, dk, dv)
	}
	return append(append(append([][]float32{y, t, dx}, out...), layerNormCase()...), updateCase()...)
}

// adamStep is the AdamW step of updateCase.
var adamStep = AdamStep{Beta1: 0.9, Beta2: 0.999, Decay: 0.99, LR: 0.03, S2: 1.7, Eps: 1e-8}

// updateCase runs AdamW on 1037 parameters and AddRows on 9 rows of 37.
func updateCase() [][]float32 {
	rng := rand.New(rand.NewPCG(9, 10))
	const n = 1037
	w, g, m, v := randSlice(rng, n), randSlice(rng, n), randSlice(rng, n), randSlice(rng, n)
	for i := range v {
		v[i] *= v[i]
	}
	AdamW(w, g, m, v, adamStep)
	dst, x := randSlice(rng, 37), randSlice(rng, 9*37)
	AddRows(dst, x, 9, 37)
	return [][]float32{w, m, v, dst}
}

// TestUpdatesSameBytesAndFloat64: AdamW and AddRows give the same bytes on
// both back ends (their doc promises it; the Go loops are the reference)
// and match the formulas in float64.
func TestUpdatesSameBytesAndFloat64(t *testing.T) {
	var ref [][]float32
	for _, be := range Available() {
		defer use(t, be)()
		out := updateCase()
		if ref == nil {
			ref = out
		}
		for i := range out {
			if !slices.Equal(out[i], ref[i]) {
				t.Fatalf("%s: output %d differs from gonum's", be, i)
			}
		}
	}
	rng := rand.New(rand.NewPCG(9, 10))
	const n = 1037
	w, g, m, v := randSlice(rng, n), randSlice(rng, n), randSlice(rng, n), randSlice(rng, n)
	h := adamStep
	for i := range n {
		vi := float64(v[i]) * float64(v[i])
		mw := float64(h.Beta1)*float64(m[i]) + (1-float64(h.Beta1))*float64(g[i])
		vw := float64(h.Beta2)*vi + (1-float64(h.Beta2))*float64(g[i])*float64(g[i])
		ww := float64(w[i])*float64(h.Decay) - float64(h.LR)*mw/(math.Sqrt(vw)*float64(h.S2)+float64(h.Eps))
		for j, c := range [][2]float64{{float64(ref[0][i]), ww}, {float64(ref[1][i]), mw}, {float64(ref[2][i]), vw}} {
			if math.Abs(c[0]-c[1]) > 1e-6*(1+math.Abs(c[1])) {
				t.Fatalf("AdamW output %d [%d] = %g, float64 %g", j, i, c[0], c[1])
			}
		}
	}
	dst, x := randSlice(rng, 37), randSlice(rng, 9*37)
	for j := range 37 {
		want := float64(dst[j])
		for r := range 9 {
			want += float64(x[r*37+j])
		}
		if math.Abs(float64(ref[3][j])-want) > 1e-5 {
			t.Fatalf("AddRows [%d] = %g, float64 %g", j, ref[3][j], want)
		}
	}
}

// layerNormCase runs LayerNormForward and LayerNormBackward (with and
// without parameter gradients) on 7 rows of 37.
func layerNormCase() [][]float32 {
	rng := rand.New(rand.NewPCG(7, 8))
	const rows, d = 7, 37
	x, dy, g, b := randSlice(rng, rows*d), randSlice(rng, rows*d), randSlice(rng, d), randSlice(rng, d)
	for i := range x {
		x[i] = 2*x[i] + 1
	}
	y, mean, rstd := make([]float32, rows*d), make([]float32, rows), make([]float32, rows)
	LayerNormForward(y, mean, rstd, x, g, b, rows, d)
	dx, pg, pb := randSlice(rng, rows*d), make([]float32, d), make([]float32, d)
	LayerNormBackward(dx, pg, pb, x, dy, g, mean, rstd, rows, d)
	dx2 := make([]float32, rows*d)
	LayerNormBackward(dx2, nil, nil, x, dy, g, mean, rstd, rows, d)
	return [][]float32{y, mean, rstd, dx, pg, pb, dx2}
}

// TestLayerNormMatchFloat64 checks each back end's layer norm against the
// formulas in float64, and that dx is added to (not overwritten).
func TestLayerNormMatchFloat64(t *testing.T) {
	for _, be := range Available() {
		t.Run(be, func(t *testing.T) {
			defer use(t, be)()
			out := layerNormCase()
			rng := rand.New(rand.NewPCG(7, 8))
			const rows, d = 7, 37
			x, dy, g, b := randSlice(rng, rows*d), randSlice(rng, rows*d), randSlice(rng, d), randSlice(rng, d)
			for i := range x {
				x[i] = 2*x[i] + 1
			}
			dx0 := randSlice(rng, rows*d)
			pg, pb := make([]float64, d), make([]float64, d)
			for r := range rows {
				var m, v float64
				for i := range d {
					m += float64(x[r*d+i]) / d
				}
				for i := range d {
					v += (float64(x[r*d+i]) - m) * (float64(x[r*d+i]) - m) / d
				}
				rs := 1 / math.Sqrt(v+1e-5)
				var s1, s2 float64
				for i := range d {
					xh := (float64(x[r*d+i]) - m) * rs
					want := xh*float64(g[i]) + float64(b[i])
					if math.Abs(float64(out[0][r*d+i])-want) > 1e-5*(1+math.Abs(want)) {
						t.Fatalf("y[%d] = %g, float64 %g", r*d+i, out[0][r*d+i], want)
					}
					dg := float64(dy[r*d+i]) * float64(g[i])
					s1 += dg / d
					s2 += dg * xh / d
					pg[i] += float64(dy[r*d+i]) * xh
					pb[i] += float64(dy[r*d+i])
				}
				for i := range d {
					xh := (float64(x[r*d+i]) - m) * rs
					want := rs * (float64(dy[r*d+i])*float64(g[i]) - s1 - xh*s2)
					if got := float64(out[6][r*d+i]); math.Abs(got-want) > 1e-5*(1+math.Abs(want)) {
						t.Fatalf("dx[%d] = %g, float64 %g", r*d+i, got, want)
					}
					if got := float64(out[3][r*d+i]) - float64(dx0[r*d+i]); math.Abs(got-want) > 1e-5*(1+math.Abs(want)) {
						t.Fatalf("dx[%d] − its old value = %g, float64 %g", r*d+i, got, want)
					}
				}
			}
			for i := range d {
				if math.Abs(float64(out[4][i])-pg[i]) > 1e-5*(1+math.Abs(pg[i])) || math.Abs(float64(out[5][i])-pb[i]) > 1e-5*(1+math.Abs(pb[i])) {
					t.Fatalf("∂g[%d], ∂b[%d] = %g, %g; float64 %g, %g", i, i, out[4][i], out[5][i], pg[i], pb[i])
				}
			}
		})
	}
}

// attnCases are the heads of attention the tests run, causal and not: 13
// rows of 8 values at stride 21 (a head's columns inside wider rows; the
// native kernels' blocks of 4 rows and 8 columns with a tail row), and 6
// rows of 12 at stride 29 (a head width that is no multiple of 8); and the
// first shape with a sink, causal and not.
func attnCases() []Attn {
	var cs []Attn
	for _, sh := range []Attn{{T: 13, HD: 8, LD: 21, Scale: 0.35}, {T: 6, HD: 12, LD: 29, Scale: 0.5}, {T: 13, HD: 8, LD: 21, Scale: 0.35, Sinked: true, Sink: 0.8}} {
		for _, causal := range []bool{true, false} {
			sh.Causal = causal
			cs = append(cs, sh)
		}
	}
	return cs
}

// attnInputs draws q, k, v and ∂O for a.
func attnInputs(rng *rand.Rand, a Attn) (q, k, v, do []float32) {
	n := (a.T-1)*a.LD + a.HD
	return randSlice(rng, n), randSlice(rng, n), randSlice(rng, n), randSlice(rng, n)
}

// TestElementwiseMatchFloat64 checks each back end's kernels against the
// formulas in float64: GELU and its derivative, and attention forward
// (causal and not; P zero past the causal limit) and backward.
func TestElementwiseMatchFloat64(t *testing.T) {
	for _, be := range Available() {
		t.Run(be, func(t *testing.T) {
			defer use(t, be)()
			out := elementwiseCase()
			rng := rand.New(rand.NewPCG(5, 6))
			n := 1037
			x, dy := randSlice(rng, n), randSlice(rng, n)
			for i := range x {
				x[i] *= 3
			}
			// near allows 2e-6 of scale: the value's size, or the size of the
			// terms it cancels from (GELU' sums ½(1+t) and a term of size |x|).
			near := func(what string, i int, got float32, want, scale float64) {
				t.Helper()
				if math.Abs(float64(got)-want) > 2e-6*(1+scale) {
					t.Fatalf("%s[%d] = %g, float64 %g", what, i, got, want)
				}
			}
			for i, v := range x {
				xv := float64(v)
				th := math.Tanh(geluC * (xv + 0.044715*xv*xv*xv))
				near("GELU", i, out[0][i], 0.5*xv*(1+th), math.Abs(xv))
				near("tanh", i, out[1][i], th, 1)
				near("GELU'", i, out[2][i], float64(dy[i])*(0.5*(1+th)+0.5*xv*(1-th*th)*geluC*(1+3*0.044715*xv*xv)), math.Abs(float64(dy[i]))*(1+xv*xv))
			}
			for c, a := range attnCases() {
				causal := a.Causal
				q, k, v, do := attnInputs(rng, a)
				o, p, dq, dk, dv := out[3+5*c], out[4+5*c], out[5+5*c], out[6+5*c], out[7+5*c]
				T, L := a.T, a.LD
				at := func(m []float32, i, c int) float64 { return float64(m[i*L+c]) }
				P := make([]float64, T*T)
				dS := make([]float64, T*T)
				for i := range T {
					last := T
					if causal {
						last = i + 1
					}
					mx, sum := math.Inf(-1), 0.0
					for j := range last {
						var s float64
						for c := range a.HD {
							s += at(q, i, c) * at(k, j, c)
						}
						P[i*T+j] = s * float64(a.Scale)
						mx = math.Max(mx, P[i*T+j])
					}
					if a.Sinked {
						mx = math.Max(mx, float64(a.Sink))
						sum = math.Exp(float64(a.Sink) - mx)
					}
					for j := range last {
						P[i*T+j] = math.Exp(P[i*T+j] - mx)
						sum += P[i*T+j]
					}
					var rs float64
					dP := make([]float64, T)
					for j := range T {
						P[i*T+j] /= sum
						near("P", i*T+j, p[i*T+j], P[i*T+j], P[i*T+j])
						for c := range a.HD {
							dP[j] += at(do, i, c) * at(v, j, c)
						}
						rs += P[i*T+j] * dP[j]
					}
					for j := range T {
						dS[i*T+j] = float64(a.Scale) * P[i*T+j] * (dP[j] - rs)
					}
				}
				for i := range T {
					for c := range a.HD {
						var wo, wq, wk, wv float64
						for j := range T {
							wo += P[i*T+j] * at(v, j, c)
							wq += dS[i*T+j] * at(k, j, c)
							wk += dS[j*T+i] * at(q, j, c)
							wv += P[j*T+i] * at(do, j, c)
						}
						near("O", i*L+c, o[i*L+c], wo, 1)
						near("dQ", i*L+c, dq[i*L+c], wq, 4)
						near("dK", i*L+c, dk[i*L+c], wk, 4)
						near("dV", i*L+c, dv[i*L+c], wv, 4)
					}
				}
			}
		})
	}
}

func TestExp32(t *testing.T) {
	worst := 0.0
	for x := float32(-87); x <= 88; x += 0.000731 * (1 + float32(math.Abs(float64(x)))) {
		want := math.Exp(float64(x))
		if e := math.Abs(float64(Exp32(x))-want) / want; e > worst {
			worst = e
		}
	}
	if worst > 3e-7 {
		t.Errorf("Exp32: worst relative error %g over [−87, 88], want ≤ 3e-7", worst)
	}
	if Exp32(0) != 1 || Exp32(-100) != 0 || !math.IsInf(float64(Exp32(100)), 1) {
		t.Errorf("Exp32(0, −100, 100) = %g, %g, %g", Exp32(0), Exp32(-100), Exp32(100))
	}
}

// TestTanh32 compares tanh32 with math.Tanh (absolute error within 4e-7)
// and checks it is odd.
func TestTanh32(t *testing.T) {
	worst := 0.0
	for x := float32(-12); x <= 12; x += 0.000373 {
		if e := math.Abs(float64(tanh32(x)) - math.Tanh(float64(x))); e > worst {
			worst = e
		}
		if tanh32(-x) != -tanh32(x) {
			t.Fatalf("tanh32(%g) = %g but tanh32(%g) = %g", x, tanh32(x), -x, tanh32(-x))
		}
	}
	if worst > 4e-7 {
		t.Errorf("tanh32: worst absolute error %g over [−12, 12], want ≤ 4e-7", worst)
	}
}

// BenchmarkElementwise times each kernel on each back end: GELU over 2¹⁶
// elements, attention forward and backward of one causal head of 64 rows.
func BenchmarkElementwise(b *testing.B) {
	const n = 1 << 16
	rng := rand.New(rand.NewPCG(1, 1))
	x, dy := randSlice(rng, n), randSlice(rng, n)
	y, t, dx := make([]float32, n), make([]float32, n), make([]float32, n)
	for _, be := range Available() {
		b.Run(be+"/gelu", func(b *testing.B) {
			defer use(b, be)()
			for range b.N {
				GELUForward(y, t, x)
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/elem")
		})
		b.Run(be+"/gelu-backward", func(b *testing.B) {
			defer use(b, be)()
			for range b.N {
				GELUBackward(dx, dy, x, t)
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/elem")
		})
		b.Run(be+"/attention-64x16", func(b *testing.B) {
			defer use(b, be)()
			a := Attn{T: 64, HD: 16, LD: 64, Scale: 0.25, Causal: true}
			q, k, v, do := x[:64*64], x[64*64:2*64*64], x[2*64*64:3*64*64], dy[:64*64]
			o, dq, dk, dv := y[:64*64], y[64*64:2*64*64], y[2*64*64:3*64*64], dx[:64*64]
			p, sc := t[:64*64], make([]float32, a.ScratchLen())
			for range b.N {
				AttentionForward(a, o, p, q, k, v, sc)
				AttentionBackward(a, dq, dk, dv, do, p, q, k, v, sc)
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N), "ns/head")
		})
	}
}

// softmaxCase runs SoftmaxRows on 9 rows of 1,658 logits (the quick world's
// vocabulary; not a multiple of 8), scaled up to ±150 so that the
// exponential's clamps run too, and returns the probabilities and the sums
// of squares.
func softmaxCase() ([]float32, []float64) {
	rng := rand.New(rand.NewPCG(11, 12))
	const rows, V = 9, 1658
	z := randSlice(rng, rows*V)
	for r := range rows {
		for i := range V {
			z[r*V+i] *= float32(1 + 15*r)
		}
	}
	sq := make([]float64, rows)
	SoftmaxRows(z, sq, V)
	return z, sq
}

// TestSoftmaxRowsSameBytes: SoftmaxRows gives the same bytes on both back
// ends and in both builds of the native one (its doc promises it: the
// model's losses and probabilities must not depend on the back end), and
// matches a float64 softmax within 1e-6.
func TestSoftmaxRowsSameBytes(t *testing.T) {
	var refZ []float32
	var refSq []float64
	for _, be := range Available() {
		defer use(t, be)()
		z, sq := softmaxCase()
		if refZ == nil {
			refZ, refSq = z, sq
		}
		if !slices.Equal(z, refZ) || !slices.Equal(sq, refSq) {
			t.Fatalf("%s: SoftmaxRows differs from gonum's", be)
		}
	}
	rng := rand.New(rand.NewPCG(11, 12))
	const rows, V = 9, 1658
	x := randSlice(rng, rows*V)
	for r := range rows {
		row := make([]float64, V)
		mx := math.Inf(-1)
		for i := range V {
			row[i] = float64(x[r*V+i]) * float64(float32(1+15*r))
			mx = math.Max(mx, row[i])
		}
		var s, e2 float64
		for i := range row {
			row[i] = math.Exp(row[i] - mx)
			s += row[i]
		}
		for i := range row {
			p := row[i] / s
			e2 += p * p
			if d := math.Abs(float64(refZ[r*V+i]) - p); d > 1e-6 {
				t.Fatalf("row %d [%d]: %g, float64 %g", r, i, refZ[r*V+i], p)
			}
		}
		if math.Abs(refSq[r]-e2) > 1e-6 {
			t.Fatalf("row %d: Σp² %g, float64 %g", r, refSq[r], e2)
		}
	}
}

// BenchmarkSoftmaxRows times both back ends on 256 rows of the quick
// world's vocabulary (a training batch's response tokens).
func BenchmarkSoftmaxRows(b *testing.B) {
	const rows, V = 256, 1658
	src := randSlice(rand.New(rand.NewPCG(1, 1)), rows*V)
	z, sq := make([]float32, rows*V), make([]float64, rows)
	for _, be := range Available() {
		b.Run(be, func(b *testing.B) {
			defer use(b, be)()
			for range b.N {
				copy(z, src)
				SoftmaxRows(z, sq, V)
			}
		})
	}
}
