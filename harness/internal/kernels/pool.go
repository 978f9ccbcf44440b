package kernels

import (
	"runtime"
	"sync"
	"sync/atomic"
	"time"
)

// For runs f(w, i) for every i < n, on the calling goroutine and on up to
// GOMAXPROCS−1 helper goroutines, and returns when all have returned. w is
// the worker running the call, below GOMAXPROCS (the caller is worker 0),
// for per-worker scratch. Items are handed out in order but run in any
// order and on any worker, so f must write disjoint outputs per item for
// results to be the same bytes on any core count.
//
// The helpers are kept between calls: after a call each one spins (yielding
// to other goroutines) for spinFor before it sleeps. A training step runs a
// few hundred parallel regions of tens of microseconds; waking a thread
// that fell asleep during the serial work before each costs about 10 µs on
// a small VM (BenchmarkForRegion), as much as the region.
// Calls from several goroutines at once are safe: a call that finds the
// helpers busy runs its items on the calling goroutine alone. While k > 1
// callers Share the cores, a call uses at most GOMAXPROCS/k workers (at
// least its own goroutine).
func For(n int, f func(w, i int)) {
	procs := runtime.GOMAXPROCS(0)
	if k := int(sharers.Load()); k > 1 {
		procs = max(1, procs/k)
	}
	if n <= 1 || procs <= 1 {
		for i := range n {
			f(0, i)
		}
		return
	}
	j := &job{n: int64(n), f: f, procs: int32(procs)}
	if !current.CompareAndSwap(nil, j) {
		for i := range n {
			f(0, i)
		}
		return
	}
	pool.start(procs - 1)
	for range min(int(pool.sleeping.Load()), procs-1, n-1) {
		select {
		case pool.wake <- struct{}{}:
		default:
		}
	}
	j.run(0)
	current.CompareAndSwap(j, nil)
	for j.done.Load() < j.n {
		runtime.Gosched()
	}
}

// sharers counts the callers that Share the cores.
var sharers atomic.Int32

// Share says that the caller (one of several independent jobs of a
// process, such as the stages a pipeline runs side by side) uses the
// kernels until release is called. With k such callers, For gives each
// call GOMAXPROCS/k workers: side by side, each job runs on its share of
// the cores instead of every job reaching for all of them and helpers
// spinning for cores that the others hold. Results do not change (For's
// results do not depend on its workers).
func Share() (release func()) {
	sharers.Add(1)
	var once sync.Once
	return func() { once.Do(func() { sharers.Add(-1) }) }
}

// spinFor is how long an idle helper looks for work before it sleeps.
const spinFor = 200 * time.Microsecond

// job is one For call.
type job struct {
	n     int64
	f     func(w, i int)
	procs int32
	next  atomic.Int64 // next item to hand out
	done  atomic.Int64 // items finished
	ids   atomic.Int32 // helper ids handed out
}

// run takes items until none are left.
func (j *job) run(w int) {
	for {
		i := j.next.Add(1) - 1
		if i >= j.n {
			return
		}
		j.f(w, int(i))
		j.done.Add(1)
	}
}

// current is the job helpers work on, nil when none.
var current atomic.Pointer[job]

// pool is the helper goroutines: how many there are, how many sleep, and
// the channel that wakes them.
var pool = helperPool{wake: make(chan struct{}, maxHelpers)}

const maxHelpers = 256

type helperPool struct {
	mu       sync.Mutex
	helpers  int
	sleeping atomic.Int32
	wake     chan struct{}
}

// start makes sure at least k helpers exist.
func (p *helperPool) start(k int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for ; p.helpers < min(k, maxHelpers); p.helpers++ {
		go helper()
	}
}

// helper serves jobs: it joins the current one when it has items left and
// a worker id below its GOMAXPROCS, spins between jobs, and sleeps on
// pool.wake once idle for spinFor.
func helper() {
	var last *job
	idle := time.Now()
	for spins := 0; ; spins++ {
		if j := current.Load(); j != nil && j != last && j.next.Load() < j.n {
			last = j
			if id := j.ids.Add(1); id < j.procs {
				j.run(int(id))
			}
			idle, spins = time.Now(), 0
			continue
		}
		// Reading the clock costs more than a look at current.
		if spins%64 == 63 && time.Since(idle) > spinFor {
			pool.sleeping.Add(1)
			<-pool.wake
			pool.sleeping.Add(-1)
			idle = time.Now()
			continue
		}
		runtime.Gosched()
	}
}
