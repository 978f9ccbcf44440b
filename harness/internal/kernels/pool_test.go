package kernels

import (
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestForRunsEachItemOnce: every item runs exactly once, on a worker below
// GOMAXPROCS, for calls of 0, 1 and many items, also from several
// goroutines at once (one finds the helpers busy and runs alone) and after
// the helpers have gone to sleep.
func TestForRunsEachItemOnce(t *testing.T) {
	procs := runtime.GOMAXPROCS(0)
	check := func(n int) {
		runs := make([]atomic.Int32, n)
		var bad atomic.Int32
		For(n, func(w, i int) {
			if w < 0 || w >= procs {
				bad.Store(int32(w) + 1)
			}
			runs[i].Add(1)
		})
		if w := bad.Load(); w != 0 {
			t.Errorf("For(%d): worker %d with GOMAXPROCS %d", n, w-1, procs)
		}
		for i := range runs {
			if r := runs[i].Load(); r != 1 {
				t.Errorf("For(%d): item %d ran %d times", n, i, r)
			}
		}
	}
	for _, n := range []int{0, 1, 2, 7, 1000} {
		check(n)
	}
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 50 {
				check(33)
			}
		}()
	}
	wg.Wait()
	time.Sleep(10 * spinFor) // long enough for idle helpers to sleep
	check(100)
}

// BenchmarkForRegion times one parallel region of GOMAXPROCS small items,
// what a training step runs a few hundred times.
func BenchmarkForRegion(b *testing.B) {
	sink := make([]float32, 64*runtime.GOMAXPROCS(0))
	for range b.N {
		For(runtime.GOMAXPROCS(0), func(_, i int) {
			for j := range 64 {
				sink[i*64+j] += 1
			}
		})
	}
}
