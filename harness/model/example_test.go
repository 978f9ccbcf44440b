package model_test

import (
	"context"
	"fmt"
	"os"

	"github.com/tive-dev/tive/harness/grad"
	"github.com/tive-dev/tive/harness/model"
)

// The life of a model as the pipeline stages use it: pretrain or train,
// save and load, attach LoRA for a reference model, decode, and extract
// per-example gradient features.
func Example() {
	recs, imgs := model.Synthetic(96, 1) // or data.Load + model.DirImages{Root: world + "/images"}
	m, err := model.New(model.DefaultConfig(), model.BuildVocab(recs, 1), 1)
	if err != nil {
		panic(err)
	}
	ctx := context.Background()
	if _, err := model.Train(ctx, m, recs, imgs, model.TrainConfig{Seed: 1}, nil); err != nil {
		panic(err)
	}
	dir, _ := os.MkdirTemp("", "tive-model")
	defer os.RemoveAll(dir)
	if err := model.Save(dir, m, map[string]any{"stage": "pretrain"}); err != nil {
		panic(err)
	}
	ref, _ := model.Load(dir)
	ref.AttachLoRA(model.LoRAConfig{Rank: 8, Alpha: 16, Dropout: 0.05}, 1)
	model.Train(ctx, ref, recs[:64], imgs, model.TrainConfig{Seed: 2}, nil)

	answers, _ := model.Generate(ctx, ref, []model.Prompt{{Image: recs[0].Image, Text: recs[0].Conversations[0].Value}}, imgs, 8)
	fmt.Println(len(answers))

	cfg := grad.Config{Params: model.LoRAAttn, Projectors: []grad.ProjectorSpec{{Kind: "factored", Seed: 0, Side: 16}}}
	grad.Extract(ctx, ref, recs[:4], imgs, cfg, func(i int, f grad.Feature) error {
		fmt.Println(i, len(f.Proj[0]), f.Norm > 0)
		return nil
	})
	// Output:
	// 1
	// 0 4096 true
	// 1 4096 true
	// 2 4096 true
	// 3 4096 true
}
