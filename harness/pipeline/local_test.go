package pipeline

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"
)

// TestLocalJobs: Local{Jobs: n} runs up to n stages of a batch at once and
// reports each exactly once; Jobs 1 runs them one at a time in order; after
// a failure no further stage starts.
func TestLocalJobs(t *testing.T) {
	var mu sync.Mutex
	var cur, peak int
	var started []int
	stg := &Stage{Name: "zz-sleepy", Run: func(ctx context.Context, c *Call) error {
		var i int
		fmt.Sscan(string(c.Params), &i)
		mu.Lock()
		cur++
		peak = max(peak, cur)
		started = append(started, i)
		mu.Unlock()
		time.Sleep(30 * time.Millisecond)
		mu.Lock()
		cur--
		mu.Unlock()
		if i == 1 && c.Seed == 1 {
			return errors.New("index 1 fails")
		}
		return nil
	}}
	batch := func(fail bool) []Invocation {
		var b []Invocation
		for i := range 6 {
			c := &Call{Params: []byte(fmt.Sprint(i))}
			if fail {
				c.Seed = 1
			}
			b = append(b, Invocation{Call: c})
		}
		return b
	}
	for _, jobs := range []int{1, 3} {
		peak, started = 0, nil
		var reported []int
		err := Local{Jobs: jobs}.Execute(context.Background(), stg, batch(false), func(i int, _ float64, err error) {
			reported = append(reported, i)
			if err != nil {
				t.Errorf("jobs %d: stage %d: %v", jobs, i, err)
			}
		})
		if err != nil || peak != jobs || len(reported) != 6 {
			t.Errorf("jobs %d: err %v, %d at once, reported %v", jobs, err, peak, reported)
		}
		seen := map[int]bool{}
		for _, i := range reported {
			seen[i] = true
		}
		if len(seen) != 6 {
			t.Errorf("jobs %d: reported %v, want each of 0..5 once", jobs, reported)
		}
		if jobs == 1 && fmt.Sprint(started) != "[0 1 2 3 4 5]" {
			t.Errorf("jobs 1 ran %v, want in order", started)
		}
	}
	started = nil
	var failed []int
	Local{Jobs: 2}.Execute(context.Background(), stg, batch(true), func(i int, _ float64, err error) {
		if err != nil {
			failed = append(failed, i)
		}
	})
	if fmt.Sprint(failed) != "[1]" || len(started) > 3 {
		t.Errorf("after the failure of stage 1: failed %v, started %v (want no start after it is reported)", failed, started)
	}
}
