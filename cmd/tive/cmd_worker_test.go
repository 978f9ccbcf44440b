package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tive-dev/tive/harness/backend"
	"github.com/tive-dev/tive/harness/grad"
	"github.com/tive-dev/tive/harness/model"
)

// workerPool writes n synthetic records (LLaVA JSON), their images, a
// question file over the same images and an untrained base model into dir.
func workerPool(t *testing.T, dir string, n int) (records, images, questions, base string) {
	t.Helper()
	records, images = filepath.Join(dir, "records.json"), filepath.Join(dir, "images")
	questions, base = filepath.Join(dir, "questions.jsonl"), filepath.Join(dir, "base")
	recs, imgs := model.Synthetic(n, 3)
	var list []map[string]any
	var qs bytes.Buffer
	for i, r := range recs {
		img, _ := imgs.Image(r.Image)
		p := filepath.Join(images, r.Image)
		os.MkdirAll(filepath.Dir(p), 0o755)
		var b bytes.Buffer
		if err := png.Encode(&b, img); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, b.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		list = append(list, map[string]any{"id": r.ID, "image": r.Image, "dataset": r.Dataset, "conversations": []map[string]string{
			{"from": "human", "value": r.Conversations[0].Value}, {"from": "gpt", "value": r.Conversations[1].Value}}})
		q, _ := json.Marshal(map[string]any{"question_id": i, "image": r.Image, "text": r.Conversations[0].Value})
		qs.Write(append(q, '\n'))
	}
	b, _ := json.Marshal(list)
	if err := os.WriteFile(records, b, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(questions, qs.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg := model.Config{ImageSize: 32, PatchSize: 16, Width: 16, Heads: 2, Layers: 1, VisionLayers: 1, MLPRatio: 2, MaxLen: 64}
	m, err := model.New(cfg, model.BuildVocab(recs, 1), 1)
	if err != nil {
		t.Fatal(err)
	}
	if err := model.Save(base, m, nil); err != nil {
		t.Fatal(err)
	}
	return records, images, questions, base
}

// sameTree fails unless folders a and b hold the same files, byte for byte.
func sameTree(t *testing.T, a, b string) {
	t.Helper()
	read := func(dir string) map[string][]byte {
		out := map[string][]byte{}
		filepath.Walk(dir, func(p string, fi os.FileInfo, err error) error {
			if err == nil && !fi.IsDir() {
				rel, _ := filepath.Rel(dir, p)
				out[rel], _ = os.ReadFile(p)
			}
			return nil
		})
		return out
	}
	fa, fb := read(a), read(b)
	if len(fa) == 0 || len(fa) != len(fb) {
		t.Fatalf("%s has %d files, %s has %d", a, len(fa), b, len(fb))
	}
	for name, x := range fa {
		if !bytes.Equal(x, fb[name]) {
			t.Errorf("%s differs between the in-process run and tive worker", name)
		}
	}
}

// TestWorkerSameBytes runs train, features and predict through `tive
// worker` (this test binary as the command, TIVE_TEST_MAIN=1) with the
// external backend and in process with the builtin one: every output file
// has the same bytes.
func TestWorkerSameBytes(t *testing.T) {
	dir := t.TempDir()
	records, images, questions, base := workerPool(t, dir, 16)
	ext := &backend.External{Argv: []string{os.Args[0], "worker"}, Env: []string{"TIVE_TEST_MAIN=1"}, Timeout: 5 * time.Minute}
	ctx := context.Background()
	for _, r := range []struct {
		name string
		b    backend.Backend
	}{{"in", backend.Builtin{}}, {"worker", ext}} {
		out := filepath.Join(dir, r.name)
		ref := filepath.Join(out, "reference", "model")
		tr := backend.TrainRequest{ModelIn: base, ModelOut: ref, Records: records, ImageRoot: images,
			LoRA: &model.LoRAConfig{Rank: 2, Alpha: 4, Dropout: 0.05}, Train: model.TrainConfig{BatchSize: 4}, Seed: 9,
			Meta: json.RawMessage(`{"seed":9,"stage":"reference"}`)}
		if _, err := r.b.Train(ctx, tr, nil); err != nil {
			t.Fatalf("%s: %v", r.name, err)
		}
		fr := backend.FeaturesRequest{Model: ref, Records: records, ImageRoot: images,
			Projector: grad.ProjectorSpec{Kind: "rademacher", Seed: 0, Dim: 32, Dtype: grad.Float16}, BatchSize: 8, ShardSize: 5,
			Out: filepath.Join(out, "features")}
		if _, err := r.b.Features(ctx, fr, nil); err != nil {
			t.Fatalf("%s: %v", r.name, err)
		}
		pr := backend.PredictRequest{Model: ref, Questions: questions, ImageRoot: images, Answers: filepath.Join(out, "answers", "answers.jsonl"), MaxNewTokens: 3, ModelID: "ref"}
		if _, err := r.b.Predict(ctx, pr, nil); err != nil {
			t.Fatalf("%s: %v", r.name, err)
		}
	}
	sameTree(t, filepath.Join(dir, "in"), filepath.Join(dir, "worker"))
	if _, err := grad.OpenStore(filepath.Join(dir, "worker", "features"), true); err != nil {
		t.Error(err)
	}
}

func TestWorkerUsage(t *testing.T) {
	code, _, stderr := runTive(t, "worker", "extra")
	if code != 2 || !strings.Contains(stderr, "takes no arguments") {
		t.Errorf("exit %d, stderr %q", code, stderr)
	}
}

// slurmUp reports whether a Slurm cluster answers here with a usable node.
func slurmUp() bool {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, "sinfo", "-h", "-o", "%T").Output()
	s := string(out)
	return err == nil && (strings.Contains(s, "idle") || strings.Contains(s, "mixed") || strings.Contains(s, "allocated"))
}

// TestWorkerSlurmArray runs features as a Slurm job array of 4 tasks, each
// `tive worker` (this test binary) reading its request from a file
// (backend.BatchInput) and writing its answer to one (backend.BatchResult).
// Task 2 is killed on its first run; the failure is detected from its
// output, that index alone is resubmitted, and the merged store then has
// the same bytes as one in-process run. Needs a Slurm cluster
// (scripts/slurm-local.sh).
func TestWorkerSlurmArray(t *testing.T) {
	if !slurmUp() {
		t.Skip("no Slurm cluster answers sinfo here: start one with scripts/slurm-local.sh")
	}
	dir := t.TempDir()
	records, images, _, base := workerPool(t, dir, 16)
	ctx := context.Background()
	ref := filepath.Join(dir, "ref")
	if _, err := (backend.Builtin{}).Train(ctx, backend.TrainRequest{ModelIn: base, ModelOut: ref, Records: records, ImageRoot: images,
		LoRA: &model.LoRAConfig{Rank: 2, Alpha: 4}, Train: model.TrainConfig{BatchSize: 8}, Seed: 2}, nil); err != nil {
		t.Fatal(err)
	}
	req := backend.FeaturesRequest{Model: ref, Records: records, ImageRoot: images,
		Projector: grad.ProjectorSpec{Kind: "rademacher", Seed: 1, Dim: 16}, BatchSize: 4, ShardSize: 4, Out: filepath.Join(dir, "in")}
	if _, err := (backend.Builtin{}).Features(ctx, req, nil); err != nil {
		t.Fatal(err)
	}
	req.Out = filepath.Join(dir, "slurm")
	parts, err := backend.SplitFeatures(req, 16, 4)
	if err != nil || len(parts) != 4 {
		t.Fatalf("%d parts, %v", len(parts), err)
	}
	for k, p := range parts {
		in, err := backend.BatchInput("features", p)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("req-%d.jsonl", k)), in, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	script := `#!/bin/sh
k=$SLURM_ARRAY_TASK_ID
if [ "$k" = 2 ] && [ ! -e "$TIVE_TEST_DIR/killed" ]; then
	touch "$TIVE_TEST_DIR/killed"
	kill -9 $$
fi
exec "$TIVE_TEST_BIN" worker <"$TIVE_TEST_DIR/req-$k.jsonl" >"$TIVE_TEST_DIR/resp-$k.jsonl"
`
	job := filepath.Join(dir, "job.sh")
	if err := os.WriteFile(job, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	sbatch := func(array string) {
		ctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, "sbatch", "--wait", "--array="+array, "--output="+filepath.Join(dir, "slurm-%A_%a.log"), job)
		cmd.Env = append(os.Environ(), "TIVE_TEST_MAIN=1", "TIVE_TEST_BIN="+os.Args[0], "TIVE_TEST_DIR="+dir)
		out, err := cmd.CombinedOutput()
		t.Logf("sbatch --array=%s: %v: %s", array, err, strings.TrimSpace(string(out)))
	}
	failed := func() []int {
		var bad []int
		for k := range parts {
			out, _ := os.ReadFile(filepath.Join(dir, fmt.Sprintf("resp-%d.jsonl", k)))
			var res backend.FeaturesResult
			err := backend.BatchResult("features", out, &res)
			if err == nil {
				err = backend.VerifyShards(req.Out, res.Projector, 16, parts[k].Start, parts[k].End, req.ShardSize)
			}
			if err != nil {
				if !backend.IsKind(err, backend.KindCrash) {
					t.Errorf("task %d: %v, want a crash", k, err)
				}
				bad = append(bad, k)
			}
		}
		return bad
	}
	sbatch("0-3")
	if bad := failed(); fmt.Sprint(bad) != "[2]" {
		t.Fatalf("failed tasks %v, want [2] (killed)", bad)
	}
	if _, err := grad.OpenStore(req.Out, true); err == nil {
		t.Fatal("the store opens for a merge with task 2's rows missing")
	}
	sbatch("2")
	if bad := failed(); len(bad) != 0 {
		t.Fatalf("failed tasks %v after the retry of task 2", bad)
	}
	if _, err := grad.OpenStore(req.Out, true); err != nil {
		t.Fatal(err)
	}
	sameTree(t, filepath.Join(dir, "in"), req.Out)
}
