package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/tive-dev/tive/harness/pipeline"
	"github.com/tive-dev/tive/harness/pipeline/slurm"
	"github.com/tive-dev/tive/harness/pipeline/stages"
	"github.com/tive-dev/tive/harness/report"
	"github.com/tive-dev/tive/harness/spec"
	"github.com/tive-dev/tive/harness/store"
)

func init() {
	register(&command{
		name:    "run",
		usage:   "SPEC [--profile NAME] [--store DIR] [--json] [--jobs N] [--executor local|slurm [--tasks N] [--retries N] [--poll D] [--job-timeout D] [--sbatch ARG]...]",
		summary: "run a study's stages through the run store (cached stages are reused)",
		run:     runRun,
	})
}

// defaultStore is the run store used without --store: $TIVE_STORE, or .tive/store.
func defaultStore() string {
	if s := os.Getenv("TIVE_STORE"); s != "" {
		return s
	}
	return filepath.Join(".tive", "store")
}

func storeFlag(fs interface {
	StringVar(*string, string, string, string)
}, p *string) {
	fs.StringVar(p, "store", defaultStore(), "run store folder (default $TIVE_STORE or .tive/store)")
}

func runRun(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("run", stderr)
	var profile, storeDir string
	var asJSON bool
	var workers int
	fs.StringVar(&profile, "profile", "", "named profile of the spec to apply")
	storeFlag(fs, &storeDir)
	fs.BoolVar(&asJSON, "json", false, "print a JSON summary as the last stdout line")
	fs.IntVar(&workers, "workers", 0, "goroutines per stage (0: all cores)")
	jobs := fs.Int("jobs", 1, "local: stages of one kind that are ready together (a sweep's runs) run this many at a time")
	executor := fs.String("executor", "local", "where stages run: local, or slurm (job arrays: the ready stages of one kind across a sweep's runs, sharded stages one index per task)")
	tasks := fs.Int("tasks", 4, "slurm: array tasks of a sharded stage")
	retries := fs.Int("retries", 2, "slurm: resubmissions of failed array tasks")
	poll := fs.Duration("poll", 10*time.Second, "slurm: how often to ask squeue for the state of submitted jobs")
	jobTimeout := fs.Duration("job-timeout", 24*time.Hour, "slurm: cancel a submission that has not ended after this long")
	var sbatchArgs listFlag
	fs.Var(&sbatchArgs, "sbatch", "slurm: extra sbatch argument, e.g. --sbatch=--partition=gpu (repeatable)")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usagef("name exactly one spec file")
	}
	st, err := loadSpec(pos[0], profile, stderr)
	if err != nil {
		return err
	}
	r, err := runner(storeDir, workers, stderr)
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	switch *executor {
	case "local":
		r.Executor = pipeline.Local{Jobs: *jobs}
	case "slurm":
		r.Executor = &slurm.Slurm{Store: r.Store, Tasks: *tasks, Retries: *retries, Sbatch: sbatchArgs, Poll: *poll, Timeout: *jobTimeout, Log: stderr}
	default:
		return usagef("--executor %q (want local or slurm)", *executor)
	}
	if workers == 0 && len(st.Runs) > 0 {
		r.Workers = st.Runs[0].Workers
	}
	sum, runErr := r.Run(ctx, st)
	var result *report.Result
	if runErr == nil && sum != nil && sum.Results != "" {
		if result, err = writeResult(st, sum.Results); err != nil {
			return err
		}
	}
	if asJSON {
		if err := writeJSONLine(stdout, sum); err != nil {
			return err
		}
	} else if sum != nil {
		counts := map[string]int{}
		for _, s := range sum.Stages {
			counts[s.Status]++
		}
		fmt.Fprintf(stdout, "%s: %d runs, %d stages (%d ran, %d cached, %d failed)\n", st.File, sum.Runs, len(sum.Stages), counts["ran"], counts["cached"], counts["failed"])
		if sum.Results != "" {
			fmt.Fprintf(stdout, "results: %s\n", sum.Results)
		}
		if result != nil {
			fmt.Fprintln(stdout)
			if err := result.Print(stdout); err != nil {
				return err
			}
		}
	}
	return runErr
}

// writeResult summarises the study from the results file a run wrote and
// writes its table and plot beside it (report.WriteResult): results.json
// gives results.md, .csv, .tex, .png and .svg. Nil for a study without
// scores.
func writeResult(st *spec.Study, results string) (*report.Result, error) {
	study, err := report.BuildFile(st, results)
	if err != nil {
		return nil, err
	}
	return report.WriteResult(study, strings.TrimSuffix(results, filepath.Ext(results)))
}

// runner opens the run store at dir for a command that runs stages: the
// stages' planner, progress lines to w, the command's crash-test seam on
// the store's commits.
func runner(dir string, workers int, w io.Writer) (*pipeline.Runner, error) {
	s, err := store.Open(dir)
	if err != nil {
		return nil, err
	}
	s.Hook = crashHook
	return &pipeline.Runner{Store: s, Plan: stages.Plan, Progress: w, Workers: workers}, nil
}
