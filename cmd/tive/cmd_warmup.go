package main

import (
	"fmt"
	"io"

	"github.com/tive-dev/tive/harness/data"
	"github.com/tive-dev/tive/harness/pipeline/stages"
	"github.com/tive-dev/tive/harness/selection"
)

func init() {
	register(&command{
		name:    "warmup",
		usage:   "--records R [--labels RULES] [--ratio 0.08] [--seed S] --out WARMUP.json",
		summary: "draw TIVE's task-balanced warm-up set for the reference model",
		run:     runWarmup,
	})
}

func runWarmup(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("warmup", stderr)
	var in stages.SelectFiles
	var out string
	ratio := fs.Float64("ratio", 0.08, "fraction r of the pool: int(N·r/T) records per task")
	seed := fs.Uint64("seed", 0, "seed of the draw")
	fs.StringVar(&in.Records, "records", "", "instruction records (LLaVA JSON list or JSON lines)")
	fs.StringVar(&in.Labels, "labels", "", "labelling rules (built-in name or YAML file); default: each record's \"dataset\"")
	fs.StringVar(&out, "out", "", "output: the warm-up set as a LLaVA JSON list")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 || in.Records == "" || out == "" {
		return usagef("--records and --out are required, and nothing else")
	}
	recs, pool, err := stages.LoadPool(in, selection.Random, 0)
	if err != nil {
		return err
	}
	idx, err := selection.Warmup(pool.Tasks, *ratio, *seed)
	if err != nil {
		return fmt.Errorf("%s: %w", in.Records, err)
	}
	if err := data.WriteJSON(out, recs, idx); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "warm-up: %d records (%d tasks) -> %s\n", len(idx), len(data.Tasks(recs)), out)
	return nil
}
