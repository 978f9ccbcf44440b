package model

// patchify cuts a CHW image img [3, S, S] into non-overlapping P×P patches,
// row-major over the patch grid, each flattened channel-major into
// dst[k, 3·P·P] (ViT's patch embedding input; the Linear after it is the
// convolution with stride P).
func patchify(dst, img []float32, s, p int) {
	g := s / p
	pd := 3 * p * p
	for gy := 0; gy < g; gy++ {
		for gx := 0; gx < g; gx++ {
			row := dst[(gy*g+gx)*pd : (gy*g+gx+1)*pd]
			i := 0
			for c := 0; c < 3; c++ {
				for y := 0; y < p; y++ {
					src := img[c*s*s+(gy*p+y)*s+gx*p:]
					copy(row[i:i+p], src[:p])
					i += p
				}
			}
		}
	}
}
