// The element-wise kernels of the native back end (package kernels), in C so
// that the compiler vectorises them. cgo includes this file twice: once for
// baseline x86-64 (or any other architecture) with SUFFIX base, once under
// #pragma GCC target("avx2") with SUFFIX avx2 on amd64. Neither may fuse a
// multiply and an add (AVX2 does not bring FMA), and both keep the same
// operation order, so they give the same bytes; reductions keep 8 partial
// sums, combined in a fixed order.

#define TIVE_CAT_(a, b) a##_##b
#define TIVE_CAT(a, b) TIVE_CAT_(a, b)
#define FN(name) TIVE_CAT(name, SUFFIX)

// exp32 as package kernels' Exp32: x = n·ln2 + r, a degree-7 polynomial for
// eʳ, 2ⁿ from the exponent bits; 0 below −87.33654, +Inf above 88.72283.
static inline float FN(exp32)(float x) {
	float xc = x > 88.72283f ? 88.72283f : x;
	xc = xc < -87.33654f ? -87.33654f : xc;
	float f = xc * 1.44269504088896341f + 12582912.0f;
	float n = f - 12582912.0f;
	int32_t bits;
	memcpy(&bits, &f, 4);
	bits -= 0x4B400000;
	float r = xc - n * 0.693359375f - n * -2.12194440e-4f;
	float p = 1.9875691500e-4f;
	p = p * r + 1.3981999507e-3f;
	p = p * r + 8.3334519073e-3f;
	p = p * r + 4.1665795894e-2f;
	p = p * r + 1.6666665459e-1f;
	p = p * r + 5.0000001201e-1f;
	p = p * r * r + r + 1.0f;
	int32_t e = (bits + 127) << 23;
	float s;
	memcpy(&s, &e, 4);
	float v = p * s;
	v = x < -87.33654f ? 0.0f : v;
	return x > 88.72283f ? INFINITY : v;
}

// tanh32 as package kernels' Go tanh32 (Eigen's rational form).
static inline float FN(tanh32)(float x) {
	float xc = x > 7.99881172180175781f ? 7.99881172180175781f : x;
	xc = xc < -7.99881172180175781f ? -7.99881172180175781f : xc;
	float x2 = xc * xc;
	float p = -2.76076847742355e-16f;
	p = p * x2 + 2.00018790482477e-13f;
	p = p * x2 + -8.60467152213735e-11f;
	p = p * x2 + 5.12229709037114e-08f;
	p = p * x2 + 1.48572235717979e-05f;
	p = p * x2 + 6.37261928875436e-04f;
	p = p * x2 + 4.89352455891786e-03f;
	float q = 1.19825839466702e-06f;
	q = q * x2 + 1.18534705686654e-04f;
	q = q * x2 + 2.26843463243900e-03f;
	q = q * x2 + 4.89352518554385e-03f;
	float t = xc * p / q;
	return fabsf(x) < 0.0004f ? x : t;
}

// sum8 is Σ a[i] over 8 partial sums (lane i mod 8), added pairwise.
static inline float FN(sum8)(const float *a, long n) {
	float s[8] = {0};
	long i = 0;
	for (; i + 8 <= n; i += 8)
		for (int l = 0; l < 8; l++) s[l] += a[i + l];
	for (int l = 0; i < n; i++, l++) s[l] += a[i];
	return ((s[0] + s[4]) + (s[2] + s[6])) + ((s[1] + s[5]) + (s[3] + s[7]));
}

// dot8 is Σ a[i]·b[i] the same way.
static inline float FN(dot8)(const float *a, const float *b, long n) {
	float s[8] = {0};
	long i = 0;
	for (; i + 8 <= n; i += 8)
		for (int l = 0; l < 8; l++) s[l] += a[i + l] * b[i + l];
	for (int l = 0; i < n; i++, l++) s[l] += a[i] * b[i];
	return ((s[0] + s[4]) + (s[2] + s[6])) + ((s[1] + s[5]) + (s[3] + s[7]));
}

static void FN(gelu_fwd)(float *y, float *t, const float *x, long n) {
	for (long i = 0; i < n; i++) {
		float v = x[i];
		float th = FN(tanh32)(0.7978845608028654f * (v + 0.044715f * v * v * v));
		t[i] = th;
		y[i] = 0.5f * v * (1.0f + th);
	}
}

static void FN(gelu_bwd)(float *dx, const float *dy, const float *x, const float *t, long n) {
	for (long i = 0; i < n; i++) {
		float v = x[i], th = t[i];
		float d = 0.5f * (1.0f + th) + 0.5f * v * (1.0f - th * th) * 0.7978845608028654f * (1.0f + 3.0f * 0.044715f * v * v);
		dx[i] = dy[i] * d;
	}
}

// layernorm_fwd: per row, y = (x − μ)·r·g + b with r = 1/√(σ² + 1e-5).
static void FN(layernorm_fwd)(float *restrict y, float *restrict mean, float *restrict rstd, const float *restrict x,
                              const float *restrict g, const float *restrict b, long rows, long d) {
	for (long r = 0; r < rows; r++) {
		const float *row = x + r * d;
		float m = FN(sum8)(row, d) / (float)d;
		float s[8] = {0};
		long i = 0;
		for (; i + 8 <= d; i += 8)
			for (int l = 0; l < 8; l++) s[l] += (row[i + l] - m) * (row[i + l] - m);
		for (int l = 0; i < d; i++, l++) s[l] += (row[i] - m) * (row[i] - m);
		float var = ((s[0] + s[4]) + (s[2] + s[6])) + ((s[1] + s[5]) + (s[3] + s[7]));
		float rs = 1.0f / sqrtf(var / (float)d + 1e-5f);
		mean[r] = m;
		rstd[r] = rs;
		float *out = y + r * d;
		for (long i = 0; i < d; i++) out[i] = (row[i] - m) * rs * g[i] + b[i];
	}
}

// layernorm_bwd: per row, with x̂ = (x − μ)·r and δ = dy, adds
// r·(δ⊙g − mean(δ⊙g) − x̂·mean(δ⊙g⊙x̂)) to dx (when non-NULL) and δ⊙x̂, δ
// to pg, pb (when non-NULL).
static void FN(layernorm_bwd)(float *restrict dx, float *restrict pg, float *restrict pb, const float *restrict x,
                              const float *restrict dy, const float *restrict g, const float *restrict mean,
                              const float *restrict rstd, long rows, long d, float *restrict xh) {
	for (long r = 0; r < rows; r++) {
		const float *row = x + r * d, *dr = dy + r * d;
		float m = mean[r], rs = rstd[r];
		float s1[8] = {0}, s2[8] = {0};
		for (long i = 0; i < d; i++) xh[i] = (row[i] - m) * rs;
		long i = 0;
		for (; i + 8 <= d; i += 8)
			for (int l = 0; l < 8; l++) {
				float dg = dr[i + l] * g[i + l];
				s1[l] += dg;
				s2[l] += dg * xh[i + l];
			}
		for (int l = 0; i < d; i++, l++) {
			float dg = dr[i] * g[i];
			s1[l] += dg;
			s2[l] += dg * xh[i];
		}
		if (pg != NULL)
			for (long i = 0; i < d; i++) {
				pg[i] += dr[i] * xh[i];
				pb[i] += dr[i];
			}
		if (dx == NULL) continue;
		float a1 = (((s1[0] + s1[4]) + (s1[2] + s1[6])) + ((s1[1] + s1[5]) + (s1[3] + s1[7]))) / (float)d;
		float a2 = (((s2[0] + s2[4]) + (s2[2] + s2[6])) + ((s2[1] + s2[5]) + (s2[3] + s2[7]))) / (float)d;
		float *out = dx + r * d;
		for (long i = 0; i < d; i++) out[i] += rs * (dr[i] * g[i] - a1 - xh[i] * a2);
	}
}

// ld8 and st8 move 8 floats between memory and a vector (unaligned).
static inline tive_v8 FN(ld8)(const float *p) {
	tive_v8 v;
	memcpy(&v, p, sizeof v);
	return v;
}

static inline void FN(st8)(float *p, tive_v8 v, long n) { memcpy(p, &v, (size_t)n * sizeof(float)); }

// abt writes C_i,j = scale·Σ_d A_i,d·Bt_d,j (d < hd in order) for the nr ≤ 4
// rows of C from row 0 and its columns j < ncol, 8 columns at a time; Bt's
// rows are tp ≥ ncol rounded up to 8 long, zero past the matrix.
static inline void FN(abt)(long nr, long ncol, long hd, const float *a, long lda, const float *bt, long tp,
                           float scale, float *c, long ldc) {
	const float *a0 = a, *a1 = nr > 1 ? a + lda : a, *a2 = nr > 2 ? a + 2 * lda : a, *a3 = nr > 3 ? a + 3 * lda : a;
	for (long j = 0; j < ncol; j += 8) {
		tive_v8 c0 = {0}, c1 = {0}, c2 = {0}, c3 = {0};
		for (long d = 0; d < hd; d++) {
			tive_v8 b = FN(ld8)(bt + d * tp + j);
			c0 += a0[d] * b;
			c1 += a1[d] * b;
			c2 += a2[d] * b;
			c3 += a3[d] * b;
		}
		long n = ncol - j < 8 ? ncol - j : 8;
		FN(st8)(c + j, c0 * scale, n);
		if (nr > 1) FN(st8)(c + ldc + j, c1 * scale, n);
		if (nr > 2) FN(st8)(c + 2 * ldc + j, c2 * scale, n);
		if (nr > 3) FN(st8)(c + 3 * ldc + j, c3 * scale, n);
	}
}

// wb writes C_r,· = Σ_j W_r,j·B_j,· (j < n in order) for the nr ≤ 4 rows r
// of C, each hd wide, with W_r,j at w[r·wr + j·wc]: 8 columns at a time,
// then one by one.
static inline void FN(wb)(long nr, long n, long hd, const float *w, long wr, long wc, const float *b, long ldb,
                          float *c, long ldc) {
	const float *w0 = w, *w1 = nr > 1 ? w + wr : w, *w2 = nr > 2 ? w + 2 * wr : w, *w3 = nr > 3 ? w + 3 * wr : w;
	long k = 0;
	for (; k + 8 <= hd; k += 8) {
		tive_v8 c0 = {0}, c1 = {0}, c2 = {0}, c3 = {0};
		for (long j = 0; j < n; j++) {
			tive_v8 bv = FN(ld8)(b + j * ldb + k);
			long o = j * wc;
			c0 += w0[o] * bv;
			c1 += w1[o] * bv;
			c2 += w2[o] * bv;
			c3 += w3[o] * bv;
		}
		FN(st8)(c + k, c0, 8);
		if (nr > 1) FN(st8)(c + ldc + k, c1, 8);
		if (nr > 2) FN(st8)(c + 2 * ldc + k, c2, 8);
		if (nr > 3) FN(st8)(c + 3 * ldc + k, c3, 8);
	}
	for (; k < hd; k++)
		for (long r = 0; r < nr; r++) {
			float s = 0.0f;
			for (long j = 0; j < n; j++) s += w[r * wr + j * wc] * b[j * ldb + k];
			c[r * ldc + k] = s;
		}
}

// transpose writes Xᵀ (hd rows of tp, zero past t) from t rows of hd at
// stride ld.
static inline void FN(transpose)(float *xt, const float *x, long t, long hd, long ld, long tp) {
	for (long d = 0; d < hd; d++) {
		for (long j = 0; j < t; j++) xt[d * tp + j] = x[j * ld + d];
		for (long j = t; j < tp; j++) xt[d * tp + j] = 0.0f;
	}
}

// attn_fwd is kernels.AttentionForward for one sequence and head, in blocks
// of 4 rows that stop at the diagonal when causal: S = Scale·QKᵀ over Kᵀ
// (scratch), P its row softmax (with exp(sink) in every denominator when
// sinked), O = PV, every sum in index order.
static void FN(attn_fwd)(long t, long hd, long ld, float scale, int causal, int sinked, float sink, float *o, float *p,
                         const float *q, const float *k, const float *v, float *scratch) {
	long tp = (t + 7) / 8 * 8;
	FN(transpose)(scratch, k, t, hd, ld, tp);
	for (long i = 0; i < t; i += 4) {
		long nr = t - i < 4 ? t - i : 4;
		long nc = causal ? i + nr : t;
		FN(abt)(nr, nc, hd, q + i * ld, ld, scratch, tp, scale, p + i * t, t);
		for (long r = i; r < i + nr; r++) {
			float *s = p + r * t;
			long last = causal ? r + 1 : t;
			float mx = s[0];
			for (long j = 1; j < last; j++) mx = s[j] > mx ? s[j] : mx;
			if (sinked && sink > mx) mx = sink;
			for (long j = 0; j < last; j++) s[j] = FN(exp32)(s[j] - mx);
			float tot = FN(sum8)(s, last);
			if (sinked) tot += FN(exp32)(sink - mx);
			float inv = 1.0f / tot;
			for (long j = 0; j < last; j++) s[j] *= inv;
			for (long j = last; j < t; j++) s[j] = 0.0f;
		}
		FN(wb)(nr, nc, hd, p + i * t, t, 1, v, ld, o + i * ld, ld);
	}
}

// attn_bwd is kernels.AttentionBackward for one sequence and head: ∂P =
// ∂O·Vᵀ over Vᵀ (scratch), ∂S = Scale·P⊙(∂P − rowsum(P⊙∂P)) (in the t·t
// floats of scratch after Vᵀ, zero where P is masked), ∂Q = ∂S·K, then
// ∂K = ∂Sᵀ·Q and ∂V = Pᵀ·∂O, in blocks of 4 rows that skip masked terms.
static void FN(attn_bwd)(long t, long hd, long ld, float scale, int causal, float *dq, float *dk, float *dv,
                         const float *dout, const float *p, const float *q, const float *k, const float *v,
                         float *scratch) {
	long tp = (t + 7) / 8 * 8;
	float *ds = scratch + hd * tp;
	FN(transpose)(scratch, v, t, hd, ld, tp);
	for (long i = 0; i < t; i += 4) {
		long nr = t - i < 4 ? t - i : 4;
		long nc = causal ? i + nr : t;
		FN(abt)(nr, nc, hd, dout + i * ld, ld, scratch, tp, 1.0f, ds + i * t, t);
		for (long r = i; r < i + nr; r++) {
			float *dr = ds + r * t;
			const float *pr = p + r * t;
			long last = causal ? r + 1 : t;
			float sum = FN(dot8)(pr, dr, last);
			for (long j = 0; j < last; j++) dr[j] = pr[j] * (dr[j] - sum) * scale;
			for (long j = last; j < t; j++) dr[j] = 0.0f;
		}
		FN(wb)(nr, nc, hd, ds + i * t, t, 1, k, ld, dq + i * ld, ld);
	}
	for (long j = 0; j < t; j += 4) {
		long nr = t - j < 4 ? t - j : 4;
		long i0 = causal ? j : 0;
		FN(wb)(nr, t - i0, hd, ds + i0 * t + j, 1, t, q + i0 * ld, ld, dk + j * ld, ld);
		FN(wb)(nr, t - i0, hd, p + i0 * t + j, 1, t, dout + i0 * ld, ld, dv + j * ld, ld);
	}
}

// adamw is kernels.AdamW: the same operations in the same order as the Go
// loop (sqrtf is correctly rounded, as float32(math.Sqrt(float64(x)))), so
// the same bytes.
static void FN(adamw)(float *restrict w, const float *restrict g, float *restrict m, float *restrict v, long n,
                      float b1, float b2, float decay, float a, float s2, float eps) {
	float c1 = 1.0f - b1, c2 = 1.0f - b2;
	for (long i = 0; i < n; i++) {
		float gi = g[i];
		float mi = b1 * m[i] + c1 * gi;
		float vi = b2 * v[i] + c2 * gi * gi;
		m[i] = mi;
		v[i] = vi;
		w[i] = w[i] * decay - a * mi / (sqrtf(vi) * s2 + eps);
	}
}

// add_rows is kernels.AddRows: dst_j += x_r,j for rows r in order, columns
// side by side, as the Go loop.
static void FN(add_rows)(float *restrict dst, const float *restrict x, long rows, long cols) {
	for (long r = 0; r < rows; r++) {
		const float *restrict xr = x + r * cols;
		for (long j = 0; j < cols; j++) dst[j] += xr[j];
	}
}

// softmax_sq is kernels.SoftmaxRows: each row of z [rows, V] becomes its
// softmax in place, and sq[r] its Σ p², with the Go loop's operations in its
// order (exp32 in float32, the sums and the division in double, index
// order): only the exp32 loop vectorises.
static void FN(softmax_sq)(float *restrict z, double *restrict sq, long rows, long V) {
	for (long r = 0; r < rows; r++) {
		float *restrict zr = z + r * V;
		float mx = zr[0];
		for (long i = 0; i < V; i++) mx = zr[i] > mx ? zr[i] : mx;
		for (long i = 0; i < V; i++) zr[i] = FN(exp32)(zr[i] - mx);
		double s = 0;
		for (long i = 0; i < V; i++) s += (double)zr[i];
		double inv = 1 / s, e2 = 0;
		for (long i = 0; i < V; i++) {
			double p = (double)zr[i] * inv;
			zr[i] = (float)p;
			e2 += p * p;
		}
		sq[r] = e2;
	}
}

// sgemm_small is C = alpha·op(A)·op(B) + beta·C by plain loops, for
// products too small to repay OpenBLAS's per-call set-up (attention over a
// few tokens). beta 0 overwrites C.
static void FN(sgemm_small)(int ta, int tb, long m, long n, long k, float alpha, const float *restrict a, long lda,
                            const float *restrict b, long ldb, float beta, float *restrict c, long ldc) {
	for (long i = 0; i < m; i++) {
		float *ci = c + i * ldc;
		if (beta == 0.0f)
			for (long j = 0; j < n; j++) ci[j] = 0.0f;
		else if (beta != 1.0f)
			for (long j = 0; j < n; j++) ci[j] *= beta;
		if (!tb) {
			for (long p = 0; p < k; p++) {
				float av = alpha * (ta ? a[p * lda + i] : a[i * lda + p]);
				const float *bp = b + p * ldb;
				for (long j = 0; j < n; j++) ci[j] += av * bp[j];
			}
			continue;
		}
		for (long j = 0; j < n; j++) {
			const float *bj = b + j * ldb;
			float s;
			if (!ta) {
				s = FN(dot8)(a + i * lda, bj, k);
			} else {
				s = 0.0f;
				for (long p = 0; p < k; p++) s += a[p * lda + i] * bj[p];
			}
			ci[j] += alpha * s;
		}
	}
}

#undef FN
