package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"

	"github.com/tive-dev/tive/harness/atomic"
	"github.com/tive-dev/tive/harness/pipeline"
	"github.com/tive-dev/tive/harness/report"
	"github.com/tive-dev/tive/harness/spec"
	"github.com/tive-dev/tive/harness/study"
)

func init() {
	register(&command{
		name:    "reproduce",
		usage:   "[--profile smoke|quick|full] [--jobs N] [--store DIR] [--out results] [--experiments experiments] [--json]",
		summary: "run every study of the paper through the store and rewrite the results (tables, plots, summary.json, CLAIMS.md)",
		run:     runReproduce,
	})
}

// studyRun reports one study of a reproduction.
type studyRun struct {
	Spec   string `json:"spec"`
	Runs   int    `json:"runs"`
	Ran    int    `json:"ran"`
	Cached int    `json:"cached"`
}

// reproduction is what `tive reproduce --json` prints.
type reproduction struct {
	Profile string     `json:"profile"`
	Studies []studyRun `json:"studies"`
	Out     string     `json:"out"`
}

func runReproduce(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("reproduce", stderr)
	var profile, storeDir, out, exps string
	var asJSON bool
	var workers int
	fs.StringVar(&profile, "profile", "quick", "profile of every study: smoke, quick or full")
	storeFlag(fs, &storeDir)
	fs.StringVar(&out, "out", "results", "results folder: writes OUT/PROFILE/ (CLAIMS.md included) and, for full (the profile the README quotes), OUT/CLAIMS.md")
	fs.StringVar(&exps, "experiments", "experiments", "folder of the study specs")
	fs.BoolVar(&asJSON, "json", false, "print a JSON summary as the last stdout line")
	fs.IntVar(&workers, "workers", 0, "goroutines per stage (0: all cores)")
	jobs := fs.Int("jobs", 2, "stages of one kind that are ready together (a sweep's runs) run this many at a time")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 0 {
		return usagef("takes no arguments (the studies are %s/*.yaml)", exps)
	}
	if profile != "smoke" && profile != "quick" && profile != "full" {
		return usagef("--profile %q (want smoke, quick or full)", profile)
	}
	var loaded []*spec.Study
	for _, f := range study.Reproduction {
		st, err := loadSpec(filepath.Join(exps, f), profile, stderr)
		if err != nil {
			return err
		}
		loaded = append(loaded, st)
	}
	r, err := runner(storeDir, workers, stderr)
	if err != nil {
		return err
	}
	r.Executor = pipeline.Local{Jobs: *jobs}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	rep := reproduction{Profile: profile, Out: filepath.Join(out, profile)}
	sum := &report.Summary{Profile: profile}
	for _, st := range loaded {
		o, err := study.Run(ctx, r, st)
		if err != nil {
			return err
		}
		sr := studyRun{Spec: st.File, Runs: o.Summary.Runs, Ran: o.Ran, Cached: o.Cached}
		rep.Studies = append(rep.Studies, sr)
		sum.Studies = append(sum.Studies, o.Study)
		if !asJSON {
			fmt.Fprintf(stdout, "%s: %d runs, %d stages ran, %d cached\n", st.File, sr.Runs, sr.Ran, sr.Cached)
		}
	}
	if err := os.MkdirAll(rep.Out, 0o755); err != nil {
		return err
	}
	path := filepath.Join(rep.Out, report.SummaryFile)
	if err := report.WriteSummary(path, sum); err != nil {
		return err
	}
	if err := report.WriteAll(path, rep.Out); err != nil {
		return err
	}
	if profile == "full" { // the profile the README and the notebooks quote
		b, err := os.ReadFile(filepath.Join(rep.Out, report.ClaimsFile))
		if err != nil {
			return err
		}
		if err := atomic.WriteFile(filepath.Join(out, report.ClaimsFile), b, 0o644); err != nil {
			return err
		}
	}
	if asJSON {
		return writeJSONLine(stdout, rep)
	}
	fmt.Fprintf(stdout, "results: %s\n", rep.Out)
	return nil
}
