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

// BenchmarkForRegion times one parallel region of GOMAXPROCS small items
// after some serial work on the caller, what a training step does a few
// hundred times: on For's helpers, and on goroutines started for the region
// (what the model did before For), whose threads fall asleep during the
// serial work.
func BenchmarkForRegion(b *testing.B) {
	procs := runtime.GOMAXPROCS(0)
	sink := make([]float32, 64*procs)
	item := func(_, i int) {
		for j := range 64 {
			sink[i*64+j] += 1
		}
	}
	serial := make([]float32, 1<<15)
	work := func() {
		for j := range serial {
			serial[j] = serial[j]*0.5 + 1
		}
	}
	b.Run("for", func(b *testing.B) {
		for range b.N {
			work()
			For(procs, item)
		}
	})
	b.Run("goroutines", func(b *testing.B) {
		for range b.N {
			work()
			var wg sync.WaitGroup
			for i := range procs {
				wg.Add(1)
				go func() {
					defer wg.Done()
					item(0, i)
				}()
			}
			wg.Wait()
		}
	})
}

// TestShareSplitsTheWorkers: while two callers Share the cores, For runs
// every item on a worker below GOMAXPROCS/2, and each item once.
func TestShareSplitsTheWorkers(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(4))
	a, b := Share(), Share()
	var high atomic.Int32
	runs := make([]atomic.Int32, 1000)
	For(len(runs), func(w, i int) {
		runs[i].Add(1)
		for {
			h := high.Load()
			if int32(w) <= h || high.CompareAndSwap(h, int32(w)) {
				break
			}
		}
		time.Sleep(time.Microsecond)
	})
	a()
	a() // a second release is a no-op
	b()
	if h := high.Load(); h >= 2 {
		t.Errorf("worker %d ran an item with 2 of 4 cores shared each", h)
	}
	for i := range runs {
		if r := runs[i].Load(); r != 1 {
			t.Fatalf("item %d ran %d times", i, r)
		}
	}
	if n := sharers.Load(); n != 0 {
		t.Errorf("%d sharers after every release", n)
	}
}
