package main

import (
	"fmt"
	"io"

	"github.com/tive-dev/tive/harness/pipeline"
)

func init() {
	register(&command{
		name:    "version",
		summary: "print the harness version, code version, Go version and matrix-product back end",
		run: func(args []string, stdout, stderr io.Writer) error {
			if len(args) > 0 {
				return usagef("takes no arguments")
			}
			v := pipeline.Version()
			fmt.Fprintf(stdout, "tive %s (commit %s%s, %s, matrix products: %s)\n", v.Harness, v.Commit, map[bool]string{true: ", dirty"}[v.Dirty], v.Go, v.Arith)
			return nil
		},
	})
}
