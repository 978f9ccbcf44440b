package stages

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/tive-dev/tive/harness/model"
	"github.com/tive-dev/tive/harness/world"
)

// BenchmarkVisionTower pretrains the default model's vision tower on the
// quick emoji world's vision stream and reports the linear probes'
// accuracy per art style (TowerEval), the seconds spent rendering and
// training, and the accuracy of the same probes on a tower as drawn (no
// pretraining). Sizes come from TIVE_VT_IMAGES (training scenes, default
// 20000), TIVE_VT_EPOCHS (2), TIVE_VT_LR (1e-3), TIVE_VT_PROBE (2000),
// TIVE_VT_WIDTH (the tower's width, 64), TIVE_VT_LAYERS (vision blocks, 1), TIVE_VT_STEM
// (patch) and TIVE_VT_ASSETS (emoji).
func BenchmarkVisionTower(b *testing.B) {
	cfg := world.Config{Profile: "quick", Seed: 0, Assets: os.Getenv("TIVE_VT_ASSETS")}
	concepts, colours, err := world.VisionLabels(cfg)
	if err != nil {
		b.Skip(err)
	}
	mc := model.DefaultConfig()
	mc.VisionWidth, mc.VisionLayers, mc.Stem = int(benchEnv("TIVE_VT_WIDTH", 64)), int(benchEnv("TIVE_VT_LAYERS", 1)), os.Getenv("TIVE_VT_STEM")
	probe := int(benchEnv("TIVE_VT_PROBE", 2000))
	report := func(prefix string, m *model.Model) {
		rows, err := TowerEval(m, cfg, probe)
		if err != nil {
			b.Fatal(err)
		}
		for _, r := range rows {
			b.ReportMetric(100*r.Concept, prefix+"concept-"+r.Style+"-%")
			b.ReportMetric(100*r.Colour, prefix+"colour-"+r.Style+"-%")
		}
	}
	for range b.N {
		t0 := time.Now()
		scenes, err := world.VisionScenes(cfg, "vision", 0, int(benchEnv("TIVE_VT_IMAGES", 20000)))
		if err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(time.Since(t0).Seconds(), "render-s")
		m, err := model.New(mc, model.NewVocab(nil), 1)
		if err != nil {
			b.Fatal(err)
		}
		if benchEnv("TIVE_VT_BASELINE", 0) > 0 {
			report("drawn-", m)
		}
		t0 = time.Now()
		tc := model.TrainConfig{Epochs: int(benchEnv("TIVE_VT_EPOCHS", 2)), LR: benchEnv("TIVE_VT_LR", 1e-3), Seed: 1}
		res, err := model.PretrainTower(context.Background(), m, towerImages(scenes), []int{len(concepts), len(colours)}, tc, nil)
		if err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(time.Since(t0).Seconds(), "train-s")
		b.ReportMetric(res.Losses[len(res.Losses)-1], "final-loss")
		report("", m)
	}
}
