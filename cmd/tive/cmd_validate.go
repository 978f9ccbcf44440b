package main

import (
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/tive-dev/tive/harness/pipeline/stages"
	"github.com/tive-dev/tive/harness/selection"
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
			msgs, notes, err := checkBudgets(st)
			for _, m := range msgs {
				fmt.Fprintf(stderr, "%s: %s\n", f, m)
			}
			switch {
			case err != nil:
				fmt.Fprintf(stderr, "%s: %v\n", f, err)
				bad = true
			case len(msgs) > 0:
				bad = true
			default:
				fmt.Fprintf(stdout, "%s: ok (%d runs)%s\n", f, len(st.Runs), notes)
			}
		}
	}
	if bad {
		return exitError{1}
	}
	return nil
}

// checkBudgets refuses the runs whose selection selects nothing from their
// pool, as the select stage would at run time, where the pool is known now
// (stages.PoolSizes); notes says where it is not, or where it depends on
// the gradient norms.
func checkBudgets(st *spec.Study) (msgs []string, notes string, err error) {
	var unknown, depends []string
	sizes := map[string]map[string]int{} // by records file or world profile
	for _, r := range st.Runs {
		where := r.Label
		if where == "" {
			where = "the run"
		}
		id := r.Data.Source + " " + r.Data.Records + " " + r.Data.Labels + " " + r.World.Profile
		sz, ok := sizes[id]
		if !ok {
			var why string
			if sz, why, err = stages.PoolSizes(r); err != nil {
				return nil, "", err
			}
			if why != "" {
				unknown = append(unknown, why)
			}
			sizes[id] = sz
		}
		if sz == nil {
			continue
		}
		msg, dep := selection.SelectsNothing(r.Selection.Options, sz)
		if msg != "" {
			msgs = append(msgs, fmt.Sprintf("%s: selection.budget: %s", where, msg))
		}
		if dep {
			depends = append(depends, where)
		}
	}
	if len(unknown) > 0 {
		notes += fmt.Sprintf("; budgets not checked: the pool is not known before the run (%s)", strings.Join(slices.Compact(unknown), "; "))
	}
	if len(depends) > 0 {
		notes += fmt.Sprintf("; whether the budgets of %d runs select anything depends on the gradient norms (fewer records than tasks)", len(depends))
	}
	return msgs, notes, nil
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
