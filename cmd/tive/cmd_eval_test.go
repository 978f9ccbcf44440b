package main

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/tive-dev/tive/harness/pipeline"
	"github.com/tive-dev/tive/harness/pipeline/stages"
	"github.com/tive-dev/tive/harness/world"
)

// TestTrainPredictScore runs select -> train -> predict -> score on a tiny
// shapes world and checks that every suite is graded by its official scorer.
func TestTrainPredictScore(t *testing.T) {
	dir := t.TempDir()
	spec := writeSpec(t, dir, "eval.yaml", `name: tiny-eval
data: {source: world}
world: {profile: tiny, assets: shapes, seed: 2}
model: {width: 32, heads: 2, layers: 1, vision_layers: 1, max_len: 96}
pretrain: {epochs: 1}
train: {epochs: 1}
predict: {max_new_tokens: 4}
selection: {method: full}
benchmarks: [mme, mmbench, seed, scienceqa, pope, textvqa, gqa, vizwiz]
`)
	code, out, errs := runTive(t, "run", spec, "--store", filepath.Join(dir, "store"), "--json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	s := summaryOf(t, out)
	res, err := pipeline.ReadResults(s.Results)
	if err != nil {
		t.Fatal(err)
	}
	scores, err := stages.ReadBenchScores(res.Runs[0].Outputs["score"])
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range world.Suites() {
		r, ok := scores[b]
		if !ok || math.IsNaN(r.Score) || r.Benchmark != b {
			t.Errorf("%s: %+v", b, r)
		}
	}
	if _, err := os.Stat(filepath.Join(res.Runs[0].Outputs["predict"], "answers", "pope.jsonl")); err != nil {
		t.Error(err)
	}
	b, err := os.ReadFile(filepath.Join(res.Runs[0].Outputs["chance"], "chance.json"))
	var chance map[string]struct {
		Answer string
		Score  float64
	}
	if err != nil || json.Unmarshal(b, &chance) != nil || len(chance) != 8 {
		t.Fatalf("chance.json: %v %s", err, b)
	}
	if c := chance["pope"]; c.Score < 40 || c.Score > 70 {
		t.Errorf("POPE's best constant answer scores %+v, want about 50-67 (F1 of always yes)", c)
	}
}
