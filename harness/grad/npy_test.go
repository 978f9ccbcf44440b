package grad

import (
	"bytes"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// numpyF16 is what np.save writes for np.array([[1, -2, 65504], [0.1, 2**-24, 0]], dtype=np.float16).
var numpyF16 = []byte("\x93NUMPY\x01\x00v\x00{'descr': '<f2', 'fortran_order': False, 'shape': (2, 3), }" +
	strings.Repeat(" ", 58) + "\n" +
	"\x00\x3c\x00\xc0\xff\x7b\x66\x2e\x01\x00\x00\x00")

func TestReadNumpyFloat16(t *testing.T) {
	p := filepath.Join(t.TempDir(), "f.npy")
	os.WriteFile(p, numpyF16, 0o644)
	m, err := OpenMatrix(p)
	if err != nil {
		t.Fatal(err)
	}
	if m.Len() != 2 || m.Dim() != 3 || m.Header.Offset != 128 {
		t.Fatalf("shape %v offset %d", m.Header.Shape, m.Header.Offset)
	}
	var got [][]float32
	m.Scan(1, func(w, i int, row []float32) error {
		got = append(got, append([]float32(nil), row...))
		return nil
	})
	want := [][]float32{{1, -2, 65504}, {0.0999755859375, float32(math.Ldexp(1, -24)), 0}}
	for i := range want {
		for j := range want[i] {
			if got[i][j] != want[i][j] {
				t.Errorf("[%d][%d] = %v, want %v", i, j, got[i][j], want[i][j])
			}
		}
	}
}

func TestWriteMatrixMatchesNumpyBytes(t *testing.T) {
	p := filepath.Join(t.TempDir(), "f.npy")
	vals := []float32{1, -2, 65504, 0.1, float32(math.Ldexp(1, -24)), 0}
	if err := WriteMatrix(p, Float16, 2, 3, func(i int, dst []float32) { copy(dst, vals[3*i:]) }); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(p)
	if !bytes.Equal(b, numpyF16) {
		t.Errorf("bytes differ from numpy's:\n got %q\nwant %q", b, numpyF16)
	}
}

func TestF16RoundTripAndRounding(t *testing.T) {
	for h := 0; h < 1<<16; h++ {
		x := f16table[h]
		if math.IsNaN(float64(x)) {
			continue
		}
		if got := F16FromF32(x); got != uint16(h) {
			t.Fatalf("F16FromF32(%v) = %#04x, want %#04x", x, got, h)
		}
	}
	for _, tc := range []struct {
		x    float32
		want uint16
	}{
		{1 + 1.0/2048, 0x3c00},           // tie, rounds to even
		{1 + 3.0/2048, 0x3c02},           // tie, rounds up to even
		{65520, 0x7c00},                  // rounds to +Inf
		{float32(math.Ldexp(1, -25)), 0}, // tie at the smallest subnormal: to even (0)
		{float32(math.Ldexp(3, -26)), 1},
		{-0.0, 0},
	} {
		if got := F16FromF32(tc.x); got != tc.want {
			t.Errorf("F16FromF32(%v) = %#04x, want %#04x", tc.x, got, tc.want)
		}
	}
}

func TestReadVectorRefusesNaNAndTruncation(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "n.npy")
	if err := WriteVector(p, Float32, []float64{1, 2, math.NaN()}); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadVector(p); err == nil || !strings.Contains(err.Error(), "element 2 is NaN") {
		t.Errorf("NaN: %v", err)
	}
	WriteVector(p, Float64, []float64{1, 2, 3})
	b, _ := os.ReadFile(p)
	os.WriteFile(p, b[:len(b)-3], 0o644)
	if _, err := ReadVector(p); err == nil || !strings.Contains(err.Error(), "truncated") {
		t.Errorf("truncated: %v", err)
	}
	for _, bad := range []string{"hello world", "\x93NUMPY\x01\x00\x10\x00{'descr': '>f4'}"} {
		os.WriteFile(p, []byte(bad), 0o644)
		if _, err := ReadVector(p); err == nil {
			t.Errorf("ReadVector(%q) succeeded", bad)
		}
	}
}

func TestNpyScanIsStreamingAndOrdered(t *testing.T) {
	p := filepath.Join(t.TempDir(), "m.npy")
	n, d := 3000, 700 // several read blocks with float32 rows
	if err := WriteMatrix(p, Float32, n, d, func(i int, dst []float32) {
		for j := range dst {
			dst[j] = float32(i*d + j)
		}
	}); err != nil {
		t.Fatal(err)
	}
	m, err := OpenMatrix(p)
	if err != nil {
		t.Fatal(err)
	}
	last := []int{-1, -1, -1}
	seen := make([]int, n)
	err = m.Scan(3, func(w, i int, row []float32) error {
		if i <= last[w] {
			t.Errorf("worker %d got row %d after %d", w, i, last[w])
		}
		last[w] = i
		seen[i]++
		if row[0] != float32(i*d) || row[d-1] != float32(i*d+d-1) {
			t.Errorf("row %d holds %v..%v", i, row[0], row[d-1])
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for i, c := range seen {
		if c != 1 {
			t.Fatalf("row %d seen %d times", i, c)
		}
	}
}
