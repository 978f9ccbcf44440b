package main

import (
	"context"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/tive-dev/tive/harness/pipeline"
)

func init() {
	register(&command{
		name:    "stage exec",
		usage:   "JOB.json [--task K]",
		summary: "run one planned stage invocation from its job file (what cluster jobs run)",
		run:     runStageExec,
	})
}

func runStageExec(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("stage exec", stderr)
	task := fs.Int("task", 0, "array task of a sharded stage (0-based)")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usagef("name one job file")
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return pipeline.ExecJob(ctx, pos[0], *task, crashHook)
}
