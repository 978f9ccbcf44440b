package backend

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tive-dev/tive/harness/grad"
	"github.com/tive-dev/tive/harness/model"
)

// workerDir is scripts/worker, from this package's folder.
var workerDir, _ = filepath.Abs(filepath.Join("..", "..", "scripts", "worker"))

// torchPython returns a Python that imports torch and numpy ($TIVE_PYTHON,
// else /usr/bin/python3, where Debian's python3-torch installs, else
// python3 on PATH), or skips the test saying how to get one.
func torchPython(t *testing.T) string {
	t.Helper()
	cands := []string{"/usr/bin/python3", "python3"}
	if p := os.Getenv("TIVE_PYTHON"); p != "" {
		cands = []string{p}
	}
	for _, c := range cands {
		if exec.Command(c, "-c", "import torch, numpy").Run() == nil {
			return c
		}
	}
	t.Skipf("no Python with torch and numpy among %v: run scripts/setup-worker.sh (apt-get install python3-torch) or set TIVE_PYTHON", cands)
	return ""
}

// parityFactor is one factor of a parity dump's factors.json.
type parityFactor struct {
	In    int     `json:"in"`
	Out   int     `json:"out"`
	Scale float32 `json:"scale"`
	X     string  `json:"x"`
	DY    string  `json:"dy"`
}

// parityDump is factors.json, the input of scripts/worker/parity.py.
type parityDump struct {
	Off        []int          `json:"off"`
	Factors    []parityFactor `json:"factors"`
	Rademacher struct {
		Seed uint64 `json:"seed"`
		Dim  int    `json:"dim"`
	} `json:"rademacher"`
	Factored struct {
		Seed uint64 `json:"seed"`
		Side int    `json:"side"`
	} `json:"factored"`
}

// TestPyProjectorParity: the worker's per-example gradients, norms and
// both projectors (scripts/worker/parity.py) agree with harness/grad on the
// same gradient factors.
func TestPyProjectorParity(t *testing.T) {
	py := torchPython(t)
	dir := t.TempDir()
	rng := rand.New(rand.NewPCG(1, 2))
	d := parityDump{Off: []int{0, 4, 5, 11}}
	// seed > 2⁶³: the hash's uint64 arithmetic matters.
	d.Rademacher.Seed, d.Rademacher.Dim = 18446744073709551557, 40
	d.Factored.Seed, d.Factored.Side = 18446744073709551557, 2
	for k, sh := range [][2]int{{24, 3}, {3, 24}, {24, 3}, {3, 17}} {
		f := parityFactor{In: sh[0], Out: sh[1], Scale: float32(1 + k%2), X: fmt.Sprintf("f%d.x.npy", k), DY: fmt.Sprintf("f%d.dy.npy", k)}
		for _, m := range []struct {
			name string
			d    int
		}{{f.X, f.In}, {f.DY, f.Out}} {
			if err := grad.WriteMatrix(filepath.Join(dir, m.name), grad.Float32, 11, m.d, func(_ int, dst []float32) {
				for j := range dst {
					dst[j] = float32(rng.NormFloat64())
				}
			}); err != nil {
				t.Fatal(err)
			}
		}
		d.Factors = append(d.Factors, f)
	}
	js, _ := json.Marshal(d)
	if err := os.WriteFile(filepath.Join(dir, "factors.json"), js, 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(py, filepath.Join(workerDir, "parity.py"), dir).CombinedOutput(); err != nil {
		t.Fatalf("parity.py: %v\n%s", err, out)
	}
	checkParity(t, dir)
}

// TestPyParityDump checks a parity dump written elsewhere, e.g. by
// scripts/worker/gpu_check.py on a GPU machine from a LLaVA model's real
// gradients: TIVE_PARITY_DIR=DIR go test ./harness/backend -run ParityDump.
func TestPyParityDump(t *testing.T) {
	dir := os.Getenv("TIVE_PARITY_DIR")
	if dir == "" {
		t.Skip("TIVE_PARITY_DIR is not set (a folder with factors.json and parity.py's outputs)")
	}
	checkParity(t, dir)
}

// checkParity compares parity.py's outputs in dir (py.norms.npy,
// py.rademacher.npy, py.factored.npy) with harness/grad's on the factors of
// dir/factors.json: relative error 1e-5 of the largest value per example.
func checkParity(t *testing.T, dir string) {
	t.Helper()
	js, err := os.ReadFile(filepath.Join(dir, "factors.json"))
	if err != nil {
		t.Fatal(err)
	}
	var d parityDump
	if err := json.Unmarshal(js, &d); err != nil {
		t.Fatal(err)
	}
	b := &grad.Batch{Off: d.Off}
	var shapes []model.FactorShape
	for k, f := range d.Factors {
		gf := model.GradFactor{FactorShape: model.FactorShape{Name: fmt.Sprint(k), In: f.In, Out: f.Out}, Scale: f.Scale}
		for _, m := range []struct {
			name string
			dst  *[]float32
		}{{f.X, &gf.X}, {f.DY, &gf.DY}} {
			mat, err := grad.OpenMatrix(filepath.Join(dir, m.name))
			if err != nil {
				t.Fatal(err)
			}
			*m.dst = make([]float32, mat.Len()*mat.Dim())
			if err := mat.Scan(1, func(_, i int, row []float32) error { copy((*m.dst)[i*mat.Dim():], row); return nil }); err != nil {
				t.Fatal(err)
			}
		}
		b.Factors = append(b.Factors, gf)
		shapes = append(shapes, gf.FactorShape)
	}
	n := len(d.Off) - 1
	pyNorms, err := grad.ReadVector(filepath.Join(dir, "py.norms.npy"))
	if err != nil {
		t.Fatal(err)
	}
	for e, v := range b.Norms() {
		if diff := math.Abs(pyNorms[e] - float64(v)); diff > 1e-5*float64(v) {
			t.Errorf("norm of example %d: python %g, go %g", e, pyNorms[e], v)
		}
	}
	for _, spec := range []grad.ProjectorSpec{{Kind: "rademacher", Seed: d.Rademacher.Seed, Dim: d.Rademacher.Dim}, {Kind: "factored", Seed: d.Factored.Seed, Side: d.Factored.Side}} {
		p, err := grad.NewProjector(spec, shapes)
		if err != nil {
			t.Fatal(err)
		}
		dim := p.ID().Dim
		want := make([][]float32, n)
		for e := range want {
			want[e] = make([]float32, dim)
		}
		p.Project(want, b)
		m, err := grad.OpenMatrix(filepath.Join(dir, "py."+spec.Kind+".npy"))
		if err != nil {
			t.Fatal(err)
		}
		if m.Len() != n || m.Dim() != dim {
			t.Fatalf("%s: python wrote [%d, %d], want [%d, %d]", spec.Kind, m.Len(), m.Dim(), n, dim)
		}
		err = m.Scan(1, func(_, e int, row []float32) error {
			var scale float64
			for _, v := range want[e] {
				scale = max(scale, math.Abs(float64(v)))
			}
			for j := range row {
				if math.Abs(float64(row[j]-want[e][j])) > 1e-5*scale {
					return fmt.Errorf("%s: example %d, feature %d: python %g, go %g", spec.Kind, e, j, row[j], want[e][j])
				}
			}
			return nil
		})
		if err != nil {
			t.Error(err)
		}
	}
}

// TestPyWorkerProtocol drives scripts/worker/tive_worker.py with the
// external backend on its torch-only toy model: train, features (checked
// shards; a resume reuses them; two array tasks give the same bytes) and
// predict.
func TestPyWorkerProtocol(t *testing.T) {
	py := torchPython(t)
	dir := t.TempDir()
	words := strings.Fields("the a red blue green square circle left right yes no one two what color is there")
	rng := rand.New(rand.NewPCG(3, 4))
	var recs []map[string]any
	var qs strings.Builder
	for i := 0; i < 10; i++ {
		var q, a []string
		for k := 0; k < 2+rng.IntN(5); k++ {
			q = append(q, words[rng.IntN(len(words))])
		}
		for k := 0; k < 1+rng.IntN(3); k++ {
			a = append(a, words[rng.IntN(len(words))])
		}
		recs = append(recs, map[string]any{"id": fmt.Sprint(i), "dataset": "toy", "conversations": []map[string]string{
			{"from": "human", "value": "<image>\n" + strings.Join(q, " ")}, {"from": "gpt", "value": strings.Join(a, " ")}}})
		fmt.Fprintf(&qs, "{\"question_id\": %d, \"text\": %q}\n", i, strings.Join(q, " "))
	}
	records, questions := filepath.Join(dir, "records.json"), filepath.Join(dir, "q.jsonl")
	js, _ := json.Marshal(recs)
	os.WriteFile(records, js, 0o644)
	os.WriteFile(questions, []byte(qs.String()), 0o644)
	base := filepath.Join(dir, "base")
	create := fmt.Sprintf("import sys; sys.path.insert(0, %q); import toymodel; toymodel.create(%q, %q.split(), seed=2)", workerDir, base, strings.Join(words, " "))
	if out, err := exec.Command(py, "-c", create).CombinedOutput(); err != nil {
		t.Fatalf("toymodel.create: %v\n%s", err, out)
	}

	var log strings.Builder
	x := &External{Argv: []string{py, filepath.Join(workerDir, "tive_worker.py"), "--device", "cpu"}, Timeout: 5 * time.Minute, Log: &log}
	ctx := context.Background()
	ref := filepath.Join(dir, "ref")
	tr, err := x.Train(ctx, TrainRequest{ModelIn: base, ModelOut: ref, Records: records, LoRA: &model.LoRAConfig{Rank: 2, Alpha: 4},
		Train: model.TrainConfig{BatchSize: 4}, Seed: 1}, nil)
	if err != nil {
		t.Fatalf("%v\n%s", err, log.String())
	}
	if tr.Steps != 3 || len(tr.Losses) != 3 {
		t.Errorf("train result %+v, want 3 steps", tr)
	}
	req := FeaturesRequest{Model: ref, Records: records, Projector: grad.ProjectorSpec{Kind: "rademacher", Seed: 0, Dim: 8, Dtype: grad.Float16},
		BatchSize: 4, ShardSize: 4, Out: filepath.Join(dir, "store")}
	fr, err := x.Features(ctx, req, nil)
	if err != nil {
		t.Fatalf("%v\n%s", err, log.String())
	}
	if len(fr.Shards) != 3 || fr.Reused != 0 {
		t.Errorf("features result %+v, want 3 new shards", fr)
	}
	if fr, err = x.Features(ctx, req, nil); err != nil || fr.Reused != 3 {
		t.Errorf("repeated request: %+v, %v; want 3 shards reused", fr, err)
	}
	split := req
	split.Out = filepath.Join(dir, "split")
	for _, r := range [][2]int{{8, 10}, {0, 8}} {
		split.Start, split.End = r[0], r[1]
		if _, err := x.Features(ctx, split, nil); err != nil {
			t.Fatal(err)
		}
	}
	sameFiles(t, req.Out, split.Out)
	if _, err := grad.OpenStore(split.Out, true); err != nil {
		t.Error(err)
	}
	pr, err := x.Predict(ctx, PredictRequest{Model: ref, Questions: questions, Answers: filepath.Join(dir, "answers.jsonl"), MaxNewTokens: 3}, nil)
	if err != nil || pr.Answers != 10 {
		t.Errorf("predict: %+v, %v", pr, err)
	}
}

// TestPyUnit runs the worker's own Python tests (scripts/worker/test_*.py:
// hash, per-example LoRA gradients against autograd, protocol, shards and
// resume), so that `go test ./...` covers them wherever torch is installed.
func TestPyUnit(t *testing.T) {
	py := torchPython(t)
	cmd := exec.Command(py, "-m", "unittest", "discover", "-s", workerDir, "-p", "test_*.py")
	cmd.Dir = workerDir
	cmd.Env = append(os.Environ(), "PYTHONDONTWRITEBYTECODE=1")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("python unittest: %v\n%s", err, out)
	}
}
