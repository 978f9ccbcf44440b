package grad

import (
	"fmt"
	"math"

	"github.com/tive-dev/tive/harness/field"
	"github.com/tive-dev/tive/harness/internal/kernels"
	"github.com/tive-dev/tive/harness/model"
)

// ProjectorSpec asks for a projector: Dim for rademacher, Side for
// factored (Dim = factors·Side²; a non-zero Dim is checked). Dtype is the
// element type the features will be stored in (Float32 when empty); it is
// part of the projector's identity.
type ProjectorSpec struct {
	Kind  string `json:"kind"`
	Seed  uint64 `json:"seed"`
	Dim   int    `json:"dim,omitempty"`
	Side  int    `json:"side,omitempty"`
	Dtype Dtype  `json:"dtype,omitempty"`
}

// Validate returns every setting of spec that NewProjector rejects before
// it sees the gradients' factors, one field.Error each: kind rademacher
// (dim > 0) or factored (side > 0), and a dtype of ParseDtype's (empty is
// float32).
func (spec ProjectorSpec) Validate() error {
	var l field.List
	switch spec.Kind {
	case "rademacher":
		if spec.Dim <= 0 {
			l.Add("dim", "%d (want a positive dimension)", spec.Dim)
		}
	case "factored":
		if spec.Side <= 0 {
			l.Add("side", "%d (want a positive side)", spec.Side)
		}
	default:
		l.Add("kind", "%q (want rademacher or factored)", spec.Kind)
	}
	if spec.Dtype != "" {
		if _, err := ParseDtype(string(spec.Dtype)); err != nil {
			l.Add("dtype", "%q (want float16, float32 or float64)", spec.Dtype)
		}
	}
	return l.Err()
}

// Projector maps a batch's per-example gradients to fixed-size features.
type Projector interface {
	ID() ProjectorID
	// Project writes example e's feature into dst[e] (length ID().Dim).
	Project(dst [][]float32, g *Batch)
}

// Batch is the per-example gradients of one batch: the model's factors and,
// computed on demand, each example's flat gradient (the factors' matrices
// Scale·Xₑᵀ·DYₑ, row-major [In, Out], concatenated in factor order).
type Batch struct {
	Off     []int
	Factors []model.GradFactor
	flat    [][]float32
}

// mix64 is the splitmix64 output function (Steele, Lea & Flood 2014):
//
//	z += 0x9E3779B97F4A7C15
//	z  = (z ^ z>>30) * 0xBF58476D1CE4E5B9
//	z  = (z ^ z>>27) * 0x94D049BB133111EB
//	return z ^ z>>31            (all arithmetic mod 2⁶⁴)
func mix64(z uint64) uint64 {
	z += 0x9E3779B97F4A7C15
	z = (z ^ z>>30) * 0xBF58476D1CE4E5B9
	z = (z ^ z>>27) * 0x94D049BB133111EB
	return z ^ z>>31
}

// RademacherSign is the sign of entry (row, col) of the seeded Rademacher
// matrix: +1 when the top bit of mix64(mix64(seed) ^ (row<<32 | col)) is 0,
// else −1 (row, col < 2³²). In numpy, with M = 2⁶⁴−1 and Python ints:
//
//	def mix(z):
//	    z = (z + 0x9E3779B97F4A7C15) & M
//	    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & M
//	    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & M
//	    return z ^ (z >> 31)
//	sign = 1 - 2 * (mix(mix(seed) ^ (row << 32 | col)) >> 63)
func RademacherSign(seed uint64, row, col int) float32 {
	return sign(mix64(seed), row, col)
}

func sign(mseed uint64, row, col int) float32 {
	if mix64(mseed^(uint64(row)<<32|uint64(col)))>>63 == 0 {
		return 1
	}
	return -1
}

// NewProjector builds the projector spec asks for, for gradients made of
// the given factors.
func NewProjector(spec ProjectorSpec, shapes []model.FactorShape) (Projector, error) {
	if err := spec.Validate(); err != nil {
		return nil, fmt.Errorf("grad: projector %w", err)
	}
	if spec.Dtype == "" {
		spec.Dtype = Float32
	}
	switch spec.Kind {
	case "rademacher":
		p := 0
		for _, s := range shapes {
			p += s.In * s.Out
		}
		return &Rademacher{Seed: spec.Seed, Dim: spec.Dim, In: p, Dtype: spec.Dtype}, nil
	case "factored":
		if spec.Dim != 0 && spec.Dim != len(shapes)*spec.Side*spec.Side {
			return nil, fmt.Errorf("grad: factored projector: dim %d ≠ %d factors · side² %d", spec.Dim, len(shapes), spec.Side*spec.Side)
		}
		return newFactored(spec.Seed, spec.Side, spec.Dtype, shapes), nil
	}
	return nil, fmt.Errorf("grad: unknown projector kind %q", spec.Kind) // Validate refuses it first
}

// Rademacher is the dense TRAK-style projection p = gᵀR, R [In, Dim] with
// R[i][j] = RademacherSign(Seed, i, j)/√Dim. Matrices up to 2²⁶ entries are
// generated once and kept (256 MiB at most); larger ones are regenerated in row blocks for
// every batch.
type Rademacher struct {
	Seed    uint64
	Dim, In int
	Dtype   Dtype
	// streamRows > 0 forces regeneration in blocks of that many rows.
	streamRows int
	mat        []float32
	block      []float32
	flat       []float32
}

// rademacherCache is the largest matrix, in entries, kept in memory.
const rademacherCache = 1 << 26

// ID identifies the projector.
func (r *Rademacher) ID() ProjectorID {
	return ProjectorID{Kind: "rademacher", Seed: r.Seed, Dim: r.Dim, Dtype: r.Dtype}
}

// fill writes rows r0..r1 of R into dst.
func (r *Rademacher) fill(dst []float32, r0, r1 int) {
	ms := mix64(r.Seed)
	s := float32(1 / math.Sqrt(float64(r.Dim)))
	splitRange(r1-r0, func(lo, hi int) {
		for i := r0 + lo; i < r0+hi; i++ {
			row := dst[(i-r0)*r.Dim : (i-r0+1)*r.Dim]
			for j := range row {
				row[j] = s * sign(ms, i, j)
			}
		}
	})
}

// Project computes dst[e] = flat gradient of e times R.
func (r *Rademacher) Project(dst [][]float32, g *Batch) {
	flat := g.Flat()
	b := len(flat)
	r.flat = growF32(r.flat, b*r.In)
	for e, f := range flat {
		copy(r.flat[e*r.In:], f)
	}
	out := make([]float32, b*r.Dim)
	if r.streamRows == 0 && r.In*r.Dim <= rademacherCache {
		if r.mat == nil {
			r.mat = make([]float32, r.In*r.Dim)
			r.fill(r.mat, 0, r.In)
		}
		kernels.Sgemm(false, false, b, r.Dim, r.In, 1, r.flat, r.In, r.mat, r.Dim, 0, out, r.Dim)
	} else {
		rows := r.streamRows
		if rows == 0 {
			rows = max(1, rademacherCache/8/r.Dim)
		}
		r.block = growF32(r.block, rows*r.Dim)
		for r0 := 0; r0 < r.In; r0 += rows {
			r1 := min(r0+rows, r.In)
			r.fill(r.block, r0, r1)
			kernels.Sgemm(false, false, b, r.Dim, r1-r0, 1, r.flat[r0:], r.In, r.block, r.Dim, 1, out, r.Dim)
		}
	}
	for e := range dst {
		copy(dst[e], out[e*r.Dim:(e+1)*r.Dim])
	}
}

// Factored is the per-layer Kronecker projection of LoGra (Choe et al.
// 2024): factor f's gradient G_f = Scale·Xᵀ·DY [In, Out] maps to
// P_inᵀ·G_f·P_out = Scale·(X·P_in)ᵀ(DY·P_out) [Side, Side], row-major, and
// the features are these blocks concatenated in factor order, so
// Dim = factors·Side². Entries: P_in[i][c] = RademacherSign(s_in, i, c)/√Side
// and P_out[o][c] = RademacherSign(s_out, o, c)/√Side with
// s_in = mix64(Seed ^ 2f) and s_out = mix64(Seed ^ (2f+1)). Inputs and
// deltas are projected per token before the per-example outer products, so
// no In×Out gradient is ever formed.
type Factored struct {
	Seed      uint64
	Side      int
	Dtype     Dtype
	shapes    []model.FactorShape
	pin, pout [][]float32 // P_inᵀ, P_outᵀ
	stack     map[string][]float32
	xp, dp    []float32
}

func newFactored(seed uint64, side int, dt Dtype, shapes []model.FactorShape) *Factored {
	f := &Factored{Seed: seed, Side: side, Dtype: dt, shapes: shapes}
	s := float32(1 / math.Sqrt(float64(side)))
	// Stored transposed, [Side, rows]: the projections below are then
	// dot products along rows of X and DY.
	mat := func(sd uint64, rows int) []float32 {
		ms := mix64(sd)
		m := make([]float32, side*rows)
		for i := 0; i < rows; i++ {
			for c := 0; c < side; c++ {
				m[c*rows+i] = s * sign(ms, i, c)
			}
		}
		return m
	}
	for k, sh := range shapes {
		f.pin = append(f.pin, mat(mix64(seed^uint64(2*k)), sh.In))
		f.pout = append(f.pout, mat(mix64(seed^uint64(2*k+1)), sh.Out))
	}
	return f
}

// ID identifies the projector.
func (f *Factored) ID() ProjectorID {
	return ProjectorID{Kind: "factored", Seed: f.Seed, Dim: len(f.shapes) * f.Side * f.Side, Dtype: f.Dtype}
}

// Project computes every example's blocks from the batch's factors.
// Factors that read the same input (the LoRA A of q, k and v read one
// normalised activation) are projected together: their P_inᵀ are stacked,
// so one GEMM gives all their X·P_in columns.
func (f *Factored) Project(dst [][]float32, g *Batch) {
	s, s2 := f.Side, f.Side*f.Side
	for _, grp := range groupByInput(g.Factors) {
		x := g.Factors[grp[0]]
		n, w := len(x.X)/x.In, len(grp)*s
		f.xp = growF32(f.xp, n*w)
		kernels.Sgemm(false, true, n, w, x.In, 1, x.X, x.In, f.stacked(grp), x.In, 0, f.xp, w)
		for c, k := range grp {
			fac := g.Factors[k]
			f.dp = growF32(f.dp, n*s)
			kernels.Sgemm(false, true, n, s, fac.Out, 1, fac.DY, fac.Out, f.pout[k], fac.Out, 0, f.dp, s)
			splitRange(len(dst), func(lo, hi int) {
				for e := lo; e < hi; e++ {
					o0, o1 := g.Off[e], g.Off[e+1]
					kernels.Sgemm(true, false, s, s, o1-o0, fac.Scale, f.xp[o0*w+c*s:], w, f.dp[o0*s:], s, 0, dst[e][k*s2:(k+1)*s2], s)
				}
			})
		}
	}
}

// groupByInput lists factor indices grouped by identical X (same backing
// array and length), groups in order of first appearance.
func groupByInput(fs []model.GradFactor) [][]int {
	var groups [][]int
	for k, fac := range fs {
		found := false
		for gi, grp := range groups {
			x := fs[grp[0]].X
			if len(x) == len(fac.X) && len(x) > 0 && &x[0] == &fac.X[0] {
				groups[gi] = append(grp, k)
				found = true
				break
			}
		}
		if !found {
			groups = append(groups, []int{k})
		}
	}
	return groups
}

// stacked returns the P_inᵀ of the factors in grp one under another
// ([len(grp)·Side, In]), built once per group.
func (f *Factored) stacked(grp []int) []float32 {
	if len(grp) == 1 {
		return f.pin[grp[0]]
	}
	key := fmt.Sprint(grp)
	if m, ok := f.stack[key]; ok {
		return m
	}
	var m []float32
	for _, k := range grp {
		m = append(m, f.pin[k]...)
	}
	if f.stack == nil {
		f.stack = map[string][]float32{}
	}
	f.stack[key] = m
	return m
}

func growF32(s []float32, n int) []float32 {
	if cap(s) < n {
		return make([]float32, n)
	}
	return s[:n]
}
