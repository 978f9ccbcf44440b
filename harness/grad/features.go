package grad

import (
	"fmt"
	"io"
	"os"
	"runtime"
	"sync"
)

// Features is an [N, d] matrix of per-example gradient features, read in one
// or more sequential passes (it may be far larger than memory).
type Features interface {
	Len() int // N
	Dim() int // d
	// Scan calls fn(w, i, row) once for every row i, from up to workers
	// goroutines (w in [0, workers) names the caller, so fn can keep
	// per-worker accumulators). Rows of one worker arrive in increasing
	// order. row is valid only during the call. The first error stops the scan.
	Scan(workers int, fn func(w, i int, row []float32) error) error
}

// Dense is an in-memory Features, row-major.
type Dense struct {
	N, D int
	Data []float32
}

// Len returns N.
func (m *Dense) Len() int { return m.N }

// Dim returns D.
func (m *Dense) Dim() int { return m.D }

// Row returns row i (not a copy).
func (m *Dense) Row(i int) []float32 { return m.Data[i*m.D : (i+1)*m.D] }

// Scan implements Features.
func (m *Dense) Scan(workers int, fn func(w, i int, row []float32) error) error {
	return parallelRows(workers, m.N, func(w, lo, hi int) error {
		for i := lo; i < hi; i++ {
			if err := fn(w, i, m.Row(i)); err != nil {
				return err
			}
		}
		return nil
	})
}

// parallelRows splits [0, n) into contiguous parts, one per worker.
func parallelRows(workers, n int, part func(w, lo, hi int) error) error {
	workers = Workers(workers)
	if workers > n {
		workers = max(n, 1)
	}
	errs := make([]error, workers)
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			errs[w] = part(w, w*n/workers, (w+1)*n/workers)
		}(w)
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// Workers turns a requested worker count into a real one: <= 0 means
// GOMAXPROCS.
func Workers(n int) int {
	if n <= 0 {
		return runtime.GOMAXPROCS(0)
	}
	return n
}

// NpyMatrix is a [N, d] .npy file of float16, float32 or float64, read by
// streaming: memory use is a few blocks, whatever the file size.
type NpyMatrix struct {
	Path   string
	Header NpyHeader
}

// OpenMatrix reads and checks the header of a [N, d] .npy file, including that
// the file's length matches its shape (a truncated file is refused).
func OpenMatrix(path string) (*NpyMatrix, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	h, err := ReadNpyHeader(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %v", path, err)
	}
	if len(h.Shape) != 2 {
		return nil, fmt.Errorf("%s: shape %v (want a matrix [N, d], row i = record i)", path, h.Shape)
	}
	if err := checkSize(f, path, h); err != nil {
		return nil, err
	}
	return &NpyMatrix{Path: path, Header: h}, nil
}

// Len returns N.
func (m *NpyMatrix) Len() int { return m.Header.Shape[0] }

// Dim returns d.
func (m *NpyMatrix) Dim() int { return m.Header.Shape[1] }

// blockBytes is the read size of a streaming scan.
const blockBytes = 4 << 20

// Scan implements Features: one goroutine reads blocks of rows ahead while
// the workers decode and consume the previous block.
func (m *NpyMatrix) Scan(workers int, fn func(w, i int, row []float32) error) error {
	return scanFile(m.Path, m.Header.Offset, m.Len(), m.Dim(), m.Header.Dtype, 0, workers, fn)
}

// scanFile streams n rows of dim elements starting at byte off of path,
// calling fn with row indices first, first+1, ...
func scanFile(path string, off int64, n, dim int, dt Dtype, first, workers int, fn func(w, i int, row []float32) error) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	workers = Workers(workers)
	rowBytes := dim * dt.Size()
	per := max(1, blockBytes/max(rowBytes, 1))
	type block struct {
		lo, hi int
		buf    []byte
		err    error
	}
	free := make(chan []byte, 3)
	for k := 0; k < 3; k++ {
		free <- make([]byte, per*rowBytes)
	}
	full := make(chan block, 2)
	stop := make(chan struct{})
	go func() {
		defer close(full)
		for lo := 0; lo < n; lo += per {
			hi := min(n, lo+per)
			var buf []byte
			select {
			case buf = <-free:
			case <-stop:
				return
			}
			buf = buf[:(hi-lo)*rowBytes]
			_, err := f.ReadAt(buf, off+int64(lo)*int64(rowBytes))
			if err == io.EOF {
				err = fmt.Errorf("%s: unexpected end of file at row %d: truncated", path, first+lo)
			}
			select {
			case full <- block{lo, hi, buf, err}:
			case <-stop:
				return
			}
			if err != nil {
				return
			}
		}
	}()
	defer close(stop)
	rows := make([][]float32, workers)
	for w := range rows {
		rows[w] = make([]float32, dim)
	}
	for b := range full {
		if b.err != nil {
			return b.err
		}
		err := parallelRows(workers, b.hi-b.lo, func(w, lo, hi int) error {
			row := rows[w]
			for r := lo; r < hi; r++ {
				decode(row, b.buf[r*rowBytes:(r+1)*rowBytes], dt)
				if err := fn(w, first+b.lo+r, row); err != nil {
					return err
				}
			}
			return nil
		})
		free <- b.buf[:cap(b.buf)]
		if err != nil {
			return err
		}
	}
	return nil
}
