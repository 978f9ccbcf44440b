package selection

import (
	"bufio"
	"bytes"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/tive-dev/tive/harness/data"
	"github.com/tive-dev/tive/harness/grad"
)

// BenchmarkTIVE665K compares TIVE selection over a real-scale pool with a
// plain sequential read of the same features file, in one run. It needs the
// pool of scripts/genfeatures (N = 665,000, d = 8192 float16, 10.9 GB) in
// $TIVE_BENCH_DIR; scripts/bench-select.sh makes it and runs this benchmark.
// peak-RSS-MB is the process's peak resident set during the timed part
// (VmHWM, reset through /proc/self/clear_refs).
func BenchmarkTIVE665K(b *testing.B) {
	dir := os.Getenv("TIVE_BENCH_DIR")
	if dir == "" {
		b.Skip("set TIVE_BENCH_DIR to a pool made by scripts/genfeatures (scripts/bench-select.sh does)")
	}
	recs, err := data.Load(filepath.Join(dir, "records.jsonl"))
	if err != nil {
		b.Fatal(err)
	}
	if err := data.AssignTasks("records.jsonl", recs, nil); err != nil {
		b.Fatal(err)
	}
	pool := Pool{Tasks: make([]string, len(recs))}
	for i := range recs {
		pool.Tasks[i] = recs[i].Task
	}
	recs = nil
	if pool.Norms, err = grad.ReadVector(filepath.Join(dir, "norms.npy")); err != nil {
		b.Fatal(err)
	}
	path := filepath.Join(dir, "features.npy")
	m, err := grad.OpenMatrix(path)
	if err != nil {
		b.Fatal(err)
	}
	pool.Features = m
	size := m.Header.Offset + m.Header.DataSize()
	b.Run("read", func(b *testing.B) {
		b.SetBytes(size)
		resetPeakRSS()
		for i := 0; i < b.N; i++ {
			f, err := os.Open(path)
			if err != nil {
				b.Fatal(err)
			}
			if _, err := io.CopyBuffer(io.Discard, struct{ io.Reader }{f}, make([]byte, 4<<20)); err != nil {
				b.Fatal(err)
			}
			f.Close()
		}
		b.ReportMetric(peakRSSMB(), "peak-RSS-MB")
	})
	b.Run("tive", func(b *testing.B) {
		b.SetBytes(size)
		opt := Defaults("tive")
		opt.Exclude = []string{"textcaps"}
		resetPeakRSS()
		for i := 0; i < b.N; i++ {
			if _, err := Select(pool, opt); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(peakRSSMB(), "peak-RSS-MB")
	})
}

// BenchmarkInfluence measures the two-pass influence kernel in memory.
func BenchmarkInfluence(b *testing.B) {
	n, d := 20000, 1024
	rng := rand.New(rand.NewPCG(1, 2))
	f := &grad.Dense{N: n, D: d, Data: make([]float32, n*d)}
	for i := range f.Data {
		f.Data[i] = float32(rng.NormFloat64())
	}
	labels := make([]string, n)
	for i := range labels {
		labels[i] = "t" + strconv.Itoa(i%10)
	}
	tasks, index := taskIndex(labels)
	b.SetBytes(int64(n * d * 4))
	for i := 0; i < b.N; i++ {
		if _, err := Influence(f, labels, make([]bool, len(tasks)), index, 0); err != nil {
			b.Fatal(err)
		}
	}
}

func resetPeakRSS() { os.WriteFile("/proc/self/clear_refs", []byte("5"), 0) }

// peakRSSMB reads VmHWM from /proc/self/status, in MiB.
func peakRSSMB() float64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := bytes.CutPrefix(sc.Bytes(), []byte("VmHWM:")); ok {
			kb, _ := strconv.ParseFloat(string(bytes.TrimSuffix(bytes.TrimSpace(v), []byte(" kB"))), 64)
			return kb / 1024
		}
	}
	return 0
}
