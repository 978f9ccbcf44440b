// Command tive is the TIVE experiment harness: specs, stages, selection, scoring.
//
// main is thin: it calls run, which is testable without a process. Each
// subcommand lives in its own cmd_<name>.go file and registers itself.
package main

import (
	"os"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}
