package main

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/tive-dev/tive/harness/grad"
)

// TestMain lets the test binary act as the tive command in a child process
// (TIVE_TEST_MAIN=1), with TIVE_KILL_AT=POINT:N making it SIGKILL itself at
// the Nth occurrence of a pipeline hook point; with TIVE_KILL_ONCE=FILE it
// does so only if FILE does not exist yet (and creates it), so a retried
// process survives.
func TestMain(m *testing.M) {
	if os.Getenv("TIVE_TEST_MAIN") == "1" {
		if at := os.Getenv("TIVE_KILL_AT"); at != "" {
			i := strings.LastIndex(at, ":")
			point, nth := at[:i], at[i+1:]
			want, _ := strconv.Atoi(nth)
			seen := 0
			crashHook = func(p string) {
				if p == point {
					if seen++; seen == want && killOnce() {
						syscall.Kill(os.Getpid(), syscall.SIGKILL)
						select {} // never returns
					}
				}
			}
		}
		os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
	}
	os.Exit(m.Run())
}

// killOnce reports whether TIVE_KILL_ONCE's marker was absent (creating it),
// or true without the variable.
func killOnce() bool {
	m := os.Getenv("TIVE_KILL_ONCE")
	if m == "" {
		return true
	}
	f, err := os.OpenFile(m, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o644)
	if err != nil {
		return false
	}
	f.Close()
	return true
}

// runTive runs the command in-process and returns its exit status and output.
func runTive(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(args, &out, &errb)
	return code, out.String(), errb.String()
}

// writePool writes a labelled pool of n records over five tasks, with
// features [n, d] (float16) and norms, into dir.
func writePool(t *testing.T, dir string, n, d int) {
	t.Helper()
	rng := rand.New(rand.NewPCG(42, 0))
	tasks := []string{"llava_instruct", "vqav2", "gqa", "textcaps", "ocrvqa"}
	var b strings.Builder
	norms := make([]float64, n)
	taskOf := make([]int, n)
	for i := 0; i < n; i++ {
		k := rng.IntN(len(tasks))
		if i < len(tasks) {
			k = i
		}
		taskOf[i] = k
		fmt.Fprintf(&b, `{"id": "r%d", "image": "img/%d.png", "conversations": [{"from": "human", "value": "<image>\nq%d"}, {"from": "gpt", "value": "%s"}], "dataset": %q}`+"\n",
			i, i, i, strings.Repeat("w ", 1+rng.IntN(20)), tasks[k])
		norms[i] = float64(k+1) + rng.Float64()
	}
	if err := os.WriteFile(filepath.Join(dir, "pool.jsonl"), []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := grad.WriteMatrix(filepath.Join(dir, "features.npy"), grad.Float16, n, d, func(i int, row []float32) {
		for j := range row {
			row[j] = float32(rng.NormFloat64())
			if j%4 == taskOf[i]%4 {
				row[j] += 1
			}
		}
	}); err != nil {
		t.Fatal(err)
	}
	if err := grad.WriteVector(filepath.Join(dir, "norms.npy"), grad.Float32, norms); err != nil {
		t.Fatal(err)
	}
}

// writeSpec writes a spec file named name in dir and returns its path.
func writeSpec(t *testing.T, dir, name, body string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}
