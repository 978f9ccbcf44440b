package main

import (
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/tive-dev/tive/harness/pipeline/stages"
	"github.com/tive-dev/tive/harness/selection"
)

// listFlag collects a repeated string flag.
type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, ",") }
func (l *listFlag) Set(s string) error { *l = append(*l, s); return nil }

func init() {
	register(&command{
		name:    "select",
		usage:   "--method NAME --records R [--labels RULES] [--features F.npy|DIR] [--norms N.npy] --budget P [--q Q] [--seed S] [--within sample|topk] [--difficulty norm|sqnorm] [--order high|low] [--exclude TASK]... [--keep TASK=FRACTION]... --out SUBSET.json [--scores SCORES.jsonl] [--tasks TASKS.json]",
		summary: "select a subset of an instruction pool (TIVE, ablations, baselines)",
		run:     runSelect,
	})
}

func runSelect(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("select", stderr)
	def := selection.Defaults(selection.TIVE)
	var (
		in       stages.SelectFiles
		out      stages.SelectOutputs
		exclude  listFlag
		keep     listFlag
		opt      = def
		workers  int
		showJSON bool
	)
	fs.StringVar(&opt.Method, "method", selection.TIVE, "selection method: "+strings.Join(selection.Methods, ", "))
	fs.StringVar(&in.Records, "records", "", "instruction records (LLaVA JSON list or JSON lines)")
	fs.StringVar(&in.Labels, "labels", "", "labelling rules: a built-in name (llava665k) or a YAML file; default: each record's \"dataset\"")
	fs.StringVar(&in.Features, "features", "", "projected gradient features: [N, d] .npy or a sharded feature store folder")
	fs.StringVar(&in.Norms, "norms", "", "unprojected gradient norms: [N] .npy")
	fs.Float64Var(&opt.Budget, "budget", def.Budget, "fraction p of the pool to select, in (0, 1]")
	fs.Float64Var(&opt.Q, "q", def.Q, "softmax factor of the within-task weights softmax(q·I)")
	fs.Uint64Var(&opt.Seed, "seed", 0, "seed of every random draw")
	fs.StringVar(&opt.Within, "within", def.Within, "within-task choice: sample or topk")
	fs.StringVar(&opt.Difficulty, "difficulty", def.Difficulty, "task difficulty: norm or sqnorm")
	fs.StringVar(&opt.Order, "order", def.Order, "perplexity: high (largest loss first) or low")
	fs.Var(&exclude, "exclude", "task that gets no budget but counts in N (repeatable)")
	fs.Var(&keep, "keep", "TASK=FRACTION for method keep (repeatable)")
	fs.StringVar(&out.Subset, "out", "", "output: the subset as a LLaVA JSON list")
	fs.StringVar(&out.Scores, "scores", "", "output: one JSON line per input record")
	fs.StringVar(&out.Tasks, "tasks", "", "output: per-task summary JSON")
	fs.IntVar(&workers, "workers", 0, "goroutines for feature scans (0: all cores)")
	fs.BoolVar(&showJSON, "json", false, "print the per-task summary as JSON")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	switch {
	case len(pos) > 0:
		return usagef("unexpected argument %q", pos[0])
	case in.Records == "":
		return usagef("--records is required")
	case out.Subset == "":
		return usagef("--out is required")
	}
	opt.Exclude = exclude
	if len(keep) > 0 {
		opt.Keep = map[string]float64{}
		for _, kv := range keep {
			t, f, ok := strings.Cut(kv, "=")
			v, err := strconv.ParseFloat(f, 64)
			if !ok || t == "" || err != nil {
				return usagef("--keep %q: want TASK=FRACTION", kv)
			}
			opt.Keep[t] = v
		}
	}
	res, err := stages.RunSelect(in, opt, out, workers)
	if err != nil {
		return err
	}
	if showJSON {
		return writeJSONLine(stdout, res.Tasks)
	}
	return printTasks(stdout, res)
}

func printTasks(w io.Writer, res *selection.Result) error {
	fmt.Fprintf(w, "%-20s %8s %12s %12s %9s\n", "task", "n", "difficulty", "budget", "selected")
	total := 0
	for _, t := range res.Tasks {
		fmt.Fprintf(w, "%-20s %8d %12.6g %12.2f %9d\n", t.Task, t.N, t.Difficulty, t.Budget, t.Selected)
		total += t.Selected
	}
	fmt.Fprintf(w, "%-20s %8d %12s %12s %9d\n", "total", len(res.Count), "", "", total)
	return nil
}
