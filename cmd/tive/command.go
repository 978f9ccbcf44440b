package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"sort"
	"strings"
)

// A command is one subcommand of tive. Its run function returns an error for
// the user (printed as "tive NAME: ..." with exit status 1), or a usageError
// (exit status 2).
type command struct {
	name    string // e.g. "select" or "runs list"
	usage   string // one line: arguments after the name
	summary string // one line: what it does
	run     func(args []string, stdout, stderr io.Writer) error
}

var commands = map[string]*command{}

// register adds c to the command table; each cmd_<name>.go calls it from init.
func register(c *command) {
	if _, dup := commands[c.name]; dup {
		panic("tive: command registered twice: " + c.name)
	}
	commands[c.name] = c
}

// usageError marks a mistake in how tive was called (exit status 2).
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error { return usageError{fmt.Sprintf(format, args...)} }

// exitError carries an exit status for a failure that was already reported
// on stderr (for example validate's per-problem lines).
type exitError struct{ code int }

func (e exitError) Error() string { return fmt.Sprintf("exit status %d", e.code) }

// run dispatches args to a subcommand and returns the process exit status.
func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		printHelp(stdout)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	c, rest := lookup(args)
	if c == nil {
		fmt.Fprintf(stderr, "tive: unknown command %q (run 'tive help' for the list)\n", strings.Join(args[:min(len(args), 2)], " "))
		return 2
	}
	err := c.run(rest, stdout, stderr)
	var ue usageError
	var ee exitError
	switch {
	case err == nil:
		return 0
	case errors.Is(err, flag.ErrHelp):
		return 0
	case errors.As(err, &ee):
		return ee.code
	case errors.As(err, &ue):
		fmt.Fprintf(stderr, "tive %s: %s\nusage: tive %s %s\n", c.name, ue.msg, c.name, c.usage)
		return 2
	default:
		fmt.Fprintf(stderr, "tive %s: %v\n", c.name, err)
		return 1
	}
}

// lookup finds the longest registered command name that prefixes args
// ("runs show KEY" resolves to "runs show").
func lookup(args []string) (*command, []string) {
	if len(args) >= 2 {
		if c := commands[args[0]+" "+args[1]]; c != nil {
			return c, args[2:]
		}
	}
	return commands[args[0]], args[1:]
}

func printHelp(w io.Writer) {
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	fmt.Fprintln(w, "tive: high-value data selection for visual instruction tuning (TIVE) harness")
	fmt.Fprintln(w, "\ncommands:")
	for _, n := range names {
		fmt.Fprintf(w, "  %-14s %s\n", n, commands[n].summary)
	}
}

// newFlags returns a FlagSet for a subcommand that reports to stderr and
// returns errors instead of exiting.
func newFlags(name string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("tive "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	return fs
}

// parseFlags parses args with fs, turning flag errors into usage errors.
// Flags and positional arguments may be interleaved.
func parseFlags(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, err
			}
			return nil, usageError{err.Error()}
		}
		args = fs.Args()
		if len(args) == 0 {
			return pos, nil
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
}
