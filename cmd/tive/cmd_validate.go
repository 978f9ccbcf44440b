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
		switch {
		case printProblems(stderr, err):
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

// printProblems writes a spec's problems to w, one per line, and reports
// whether err held any.
func printProblems(w io.Writer, err error) bool {
	var ps spec.Problems
	if !errors.As(err, &ps) {
		return false
	}
	for _, p := range ps {
		fmt.Fprintln(w, p.Error())
	}
	return true
}

// loadSpec loads a spec with a profile; its problems go to stderr and make
// the command exit with status 1.
func loadSpec(file, profile string, stderr io.Writer) (*spec.Study, error) {
	st, err := spec.Load(file, profile)
	if printProblems(stderr, err) {
		return nil, exitError{1}
	}
	return st, err
}
