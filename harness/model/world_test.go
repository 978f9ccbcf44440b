package model_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"image"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/tive-dev/tive/benchmarks"
	"github.com/tive-dev/tive/harness/data"
	"github.com/tive-dev/tive/harness/model"
	"github.com/tive-dev/tive/harness/world"
)

// suiteFiles are the question and annotation paths each scorer takes, and
// the folder its question images are named relative to.
func suiteFiles(dir, s string) (benchmarks.Files, string) {
	d := filepath.Join(dir, "benchmarks", s)
	var f benchmarks.Files
	var img string
	switch s {
	case "mme":
		f.Questions, f.Annotations = filepath.Join(d, "llava_mme.jsonl"), filepath.Join(d, "MME_Benchmark_release_version")
		img = f.Annotations
	case "mmbench":
		f.Questions = filepath.Join(d, "mmbench_dev_20230712.tsv")
		f.Annotations = f.Questions
	case "seed":
		f.Questions, f.Annotations, img = filepath.Join(d, "llava-seed-bench.jsonl"), filepath.Join(d, "SEED-Bench.json"), d
	case "scienceqa":
		f.Questions, f.Annotations, img = filepath.Join(d, "llava_test_CQM-A.json"), d, filepath.Join(d, "images", "test")
	case "pope":
		f.Questions, f.Annotations, img = filepath.Join(d, "llava_pope_test.jsonl"), filepath.Join(d, "coco"), filepath.Join(d, "val2014")
	case "textvqa":
		f.Questions, f.Annotations, img = filepath.Join(d, "llava_textvqa_val_v051_ocr.jsonl"), filepath.Join(d, "TextVQA_0.5.1_val.json"), filepath.Join(d, "train_images")
	case "gqa":
		f.Questions, f.Annotations, img = filepath.Join(d, "llava_gqa_testdev_balanced.jsonl"), filepath.Join(d, "testdev_balanced_questions.json"), filepath.Join(d, "images")
	case "vizwiz":
		f.Questions, f.Annotations, img = filepath.Join(d, "llava_val.jsonl"), filepath.Join(d, "Annotations", "val.json"), filepath.Join(d, "val")
	}
	return f, img
}

// questionImages returns the image of every question, in question-file
// order, as paths under the returned source.
func questionImages(t *testing.T, dir, s string) ([]string, model.ImageSource) {
	f, root := suiteFiles(dir, s)
	switch s {
	case "mmbench":
		fh, err := os.Open(f.Questions)
		if err != nil {
			t.Fatal(err)
		}
		defer fh.Close()
		r := csv.NewReader(fh)
		r.Comma, r.LazyQuotes, r.FieldsPerRecord = '\t', true, -1
		rows, err := r.ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		col := map[string]int{}
		for i, h := range rows[0] {
			col[h] = i
		}
		imgs := model.MapImages{}
		byIndex := map[string]string{}
		for _, row := range rows[1:] {
			b, err := base64.StdEncoding.DecodeString(row[col["image"]])
			if err != nil {
				t.Fatal(err)
			}
			img, _, err := image.Decode(bytes.NewReader(b))
			if err != nil {
				t.Fatal(err)
			}
			imgs[row[col["index"]]] = img
			byIndex[row[col["index"]]] = row[col["index"]]
		}
		ans, err := world.OracleAnswers(s, filepath.Dir(f.Questions))
		if err != nil {
			t.Fatal(err)
		}
		var paths []string
		for _, a := range ans {
			paths = append(paths, byIndex[fmt.Sprint(a.QuestionID)])
		}
		return paths, imgs
	case "scienceqa":
		b, err := os.ReadFile(f.Questions)
		if err != nil {
			t.Fatal(err)
		}
		var qs []struct {
			Image string `json:"image"`
		}
		if err := json.Unmarshal(b, &qs); err != nil {
			t.Fatal(err)
		}
		var paths []string
		for _, q := range qs {
			paths = append(paths, q.Image)
		}
		return paths, model.DirImages{Root: root}
	}
	fh, err := os.Open(f.Questions)
	if err != nil {
		t.Fatal(err)
	}
	defer fh.Close()
	var paths []string
	sc := bufio.NewScanner(fh)
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	for sc.Scan() {
		var q struct {
			Image string `json:"image"`
		}
		if err := json.Unmarshal(sc.Bytes(), &q); err != nil {
			t.Fatal(err)
		}
		paths = append(paths, q.Image)
	}
	return paths, model.DirImages{Root: root}
}

// score grades answers (the oracle's lines with Text replaced) with the
// suite's official scorer.
func score(t *testing.T, dir, s string, ans []world.Answer) float64 {
	f, _ := suiteFiles(dir, s)
	f.Answers = filepath.Join(t.TempDir(), s+".jsonl")
	if err := world.WriteAnswers(f.Answers, ans); err != nil {
		t.Fatal(err)
	}
	sc, err := benchmarks.Lookup(s)
	if err != nil {
		t.Fatal(err)
	}
	res, err := sc.Score(f)
	if err != nil {
		t.Fatalf("%s: %v", s, err)
	}
	return res.Score
}

// TestQuickWorld is issue 5's end-to-end check on a generated world
// (TIVE_WORLD=DIR, from `tive world generate --profile quick --out DIR`;
// skipped when unset): pretrain the default model on the captions, train
// it on the full mixture, decode every benchmark question (at most 12 new
// tokens), and compare each official score with the best constant answer
// (Yes, No, A–D or unanswerable, graded by the same scorer). Knobs:
// TIVE_SEEDS (1), TIVE_PRETRAIN_EPOCHS (3), TIVE_TRAIN_EPOCHS (1), TIVE_LR
// in units of 1e-4 (TrainConfig's default), TIVE_BATCH (default), and
// TIVE_MODEL_CACHE=DIR to save trained models and reuse them. It takes
// minutes, so it is not part of the quick test run.
func TestQuickWorld(t *testing.T) {
	dir := os.Getenv("TIVE_WORLD")
	if dir == "" {
		t.Skip("TIVE_WORLD not set")
	}
	seeds := 1
	if s := os.Getenv("TIVE_SEEDS"); s != "" {
		seeds, _ = strconv.Atoi(s)
	}
	mix, err := data.Load(filepath.Join(dir, "mixture.json"))
	if err != nil {
		t.Fatal(err)
	}
	pre, err := data.Load(filepath.Join(dir, "pretrain.json"))
	if err != nil {
		t.Fatal(err)
	}
	imgs := model.DirImages{Root: filepath.Join(dir, "images")}
	vocab := model.BuildVocab(append(append([]data.Record(nil), mix...), pre...), 1)
	t.Logf("mixture %d records, pretrain %d, vocabulary %d", len(mix), len(pre), vocab.Size())

	chance := map[string]float64{}
	for _, s := range world.Suites() {
		best := math.Inf(-1)
		for _, c := range []string{"Yes", "No", "A", "B", "C", "D", "unanswerable"} {
			ans, err := world.ConstantAnswers(s, filepath.Join(dir, "benchmarks", s), c)
			if err != nil {
				t.Fatal(err)
			}
			best = max(best, score(t, dir, s, ans))
		}
		chance[s] = best
	}
	scores := map[string][]float64{}
	for seed := 1; seed <= seeds; seed++ {
		m, err := model.New(model.DefaultConfig(), vocab, uint64(seed))
		if err != nil {
			t.Fatal(err)
		}
		t0 := time.Now()
		cache := os.Getenv("TIVE_MODEL_CACHE")
		if cache != "" {
			cache = filepath.Join(cache, fmt.Sprint(seed))
			if m, err = model.Load(cache); err == nil {
				t.Logf("seed %d: loaded %s", seed, cache)
				predict(t, dir, m, scores)
				continue
			}
			m, _ = model.New(model.DefaultConfig(), vocab, uint64(seed))
		}
		pr, err := model.Train(context.Background(), m, pre, imgs, trainConfig(pretrainEpochs(), seed), nil)
		if err != nil {
			t.Fatal(err)
		}
		t1 := time.Now()
		tr, err := model.Train(context.Background(), m, mix, imgs, trainConfig(trainEpochs(), seed), nil)
		if err != nil {
			t.Fatal(err)
		}
		t2 := time.Now()
		if cache != "" {
			if err := model.Save(cache, m, nil); err != nil {
				t.Fatal(err)
			}
		}
		t.Logf("seed %d: pretrain %d steps %.1fs (loss %.2f→%.2f), train %d steps %d tokens %.1fs = %.0f tokens/s (loss %.2f→%.2f)",
			seed, pr.Steps, t1.Sub(t0).Seconds(), pr.Losses[0], tail(pr.Losses), tr.Steps, tr.Tokens, t2.Sub(t1).Seconds(),
			float64(tr.Tokens)/t2.Sub(t1).Seconds(), tr.Losses[0], tail(tr.Losses))
		predict(t, dir, m, scores)
		t.Logf("seed %d: predict %.1fs", seed, time.Since(t2).Seconds())
	}
	for _, s := range world.Suites() {
		mean, sd := meanSD(scores[s])
		t.Logf("%-10s model %7.2f ± %5.2f (n=%d)   best constant %7.2f", s, mean, sd, len(scores[s]), chance[s])
		if mean <= chance[s] || (len(scores[s]) > 1 && mean-chance[s] <= 3*sd) {
			t.Errorf("%s: model %.2f ± %.2f does not beat the best constant %.2f by 3 sd", s, mean, sd, chance[s])
		}
	}
}

// predict decodes every question of every suite and appends the scores.
func predict(t *testing.T, dir string, m *model.Model, scores map[string][]float64) {
	for _, s := range world.Suites() {
		ans, err := world.OracleAnswers(s, filepath.Join(dir, "benchmarks", s))
		if err != nil {
			t.Fatal(err)
		}
		paths, src := questionImages(t, dir, s)
		if len(paths) != len(ans) {
			t.Fatalf("%s: %d images for %d questions", s, len(paths), len(ans))
		}
		prompts := make([]model.Prompt, len(ans))
		for i, a := range ans {
			prompts[i] = model.Prompt{Image: paths[i], Text: a.Prompt}
		}
		out, err := model.Generate(context.Background(), m, prompts, src, 12)
		if err != nil {
			t.Fatal(err)
		}
		for i := range ans {
			if i < 3 {
				t.Logf("%s: %q -> %q (want %q)", s, ans[i].Prompt, out[i], ans[i].Text)
			}
			ans[i].Text = world.OneLine(out[i])
			ans[i].ModelID = "tive-builtin"
		}
		scores[s] = append(scores[s], score(t, dir, s, ans))
	}
}

func envInt(k string, d int) int {
	if v, err := strconv.Atoi(os.Getenv(k)); err == nil {
		return v
	}
	return d
}

// trainConfig reads TIVE_LR (×1e-4) and TIVE_BATCH overrides.
func trainConfig(epochs, seed int) model.TrainConfig {
	return model.TrainConfig{Epochs: epochs, Seed: uint64(seed), LR: float64(envInt("TIVE_LR", 0)) * 1e-4, BatchSize: envInt("TIVE_BATCH", 0)}
}

func pretrainEpochs() int { return envInt("TIVE_PRETRAIN_EPOCHS", 3) }
func trainEpochs() int    { return envInt("TIVE_TRAIN_EPOCHS", 1) }

func tail(x []float64) float64 {
	n := min(10, len(x))
	var s float64
	for _, v := range x[len(x)-n:] {
		s += v
	}
	return s / float64(n)
}

func meanSD(x []float64) (float64, float64) {
	var m, v float64
	for _, a := range x {
		m += a
	}
	m /= float64(len(x))
	for _, a := range x {
		v += (a - m) * (a - m)
	}
	if len(x) > 1 {
		v /= float64(len(x) - 1)
	}
	return m, math.Sqrt(v)
}
