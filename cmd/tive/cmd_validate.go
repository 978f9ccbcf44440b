package main

import (
	"errors"
	"fmt"
	"io"

	"github.com/tive-dev/tive/harness/spec"
)

func init() {
	register(&command{
		name:    "validate",
		usage:   "SPEC...",
		summary: "check experiment specs (and all their profiles and sweeps) without running anything",
		run:     runValidate,
	})
}

func runValidate(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("validate", stderr)
	files, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(files) == 0 {
		return usagef("name at least one spec file")
	}
	bad := false
	for _, f := range files {
		st, err := spec.Load(f, "")
		var ps spec.Problems
		switch {
		case errors.As(err, &ps):
			for _, p := range ps {
				fmt.Fprintln(stderr, p.Error())
			}
			bad = true
		case err != nil:
			fmt.Fprintf(stderr, "%s: %v\n", f, err)
			bad = true
		default:
			fmt.Fprintf(stdout, "%s: ok (%d runs)\n", f, len(st.Runs))
		}
	}
	if bad {
		return exitError{1}
	}
	return nil
}
