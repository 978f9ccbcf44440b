// Command tive is the TIVE experiment harness: specs, stages, selection, scoring.
//
// main is thin: it calls run, which is testable without a process. Each
// subcommand lives in its own cmd_<name>.go file and registers itself.
package main

import (
	"os"
)

// crashHook, set only by the tests' TestMain (TIVE_KILL_AT), is the hook of
// every store a command runs stages through and of `tive stage exec`: the
// tests kill the process at a named point of a run with it.
var crashHook func(point string)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}
