package main

import (
	"context"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/tive-dev/tive/harness/backend"
)

func init() {
	register(&command{
		name:    "worker",
		usage:   "",
		summary: "serve the built-in model over the worker protocol (JSON lines on stdin/stdout)",
		run:     runWorker,
	})
}

// runWorker serves backend.Builtin with backend.Serve on stdin and stdout
// until stdin ends; logs go to stderr. SIGINT or SIGTERM cancel the request
// in progress (complete shards and checkpoints stay).
func runWorker(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("worker", stderr)
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 0 {
		return usagef("takes no arguments (requests come on stdin)")
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return backend.Serve(ctx, backend.Builtin{}, "tive-builtin", os.Stdin, stdout)
}
