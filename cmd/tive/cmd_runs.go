package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"sort"
	"text/tabwriter"

	"github.com/tive-dev/tive/harness/store"
)

func init() {
	register(&command{name: "runs list", usage: "[--store DIR]", summary: "list the stage outputs in the run store", run: runRunsList})
	register(&command{name: "runs show", usage: "KEY [--store DIR]", summary: "show one stage output's manifest (KEY may be a unique prefix)", run: runRunsShow})
	register(&command{name: "runs verify", usage: "[--repair] [--store DIR]", summary: "check the whole store: outputs against their manifests' SHA-256s, half-written and orphaned objects, stale temporary folders; --repair moves bad objects to corrupt/ (a run recomputes them) and removes stale folders", run: runRunsVerify})
}

// runRunsVerify checks the whole store (store.Store.Check), holding its
// lock so that no run reads or writes meanwhile, and lists what is wrong:
// corrupt, half-written and orphaned objects, stale temporary folders. It
// exits 1 when anything is (with --repair, after moving the objects aside
// and removing the stale folders).
func runRunsVerify(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("runs verify", stderr)
	var storeDir string
	storeFlag(fs, &storeDir)
	repair := fs.Bool("repair", false, "move bad objects to corrupt/ (a later run does not find them and so recomputes them) and remove stale temporary folders")
	s, err := openStoreOnly(fs, args, &storeDir)
	if err != nil {
		return err
	}
	lock, err := s.Lock(stderr)
	if err != nil {
		return err
	}
	defer lock.Unlock()
	n, problems, err := s.Check()
	if err != nil {
		return err
	}
	count := map[string]int{}
	for _, p := range problems {
		count[p.Kind]++
		line := p.String()
		if *repair {
			dst, err := s.Repair(p)
			if err != nil {
				return fmt.Errorf("%s: repairing it: %w", line, err)
			}
			if dst == "" {
				line += "; removed"
			} else {
				line += "; moved to " + dst
			}
		}
		fmt.Fprintln(stdout, line)
	}
	fmt.Fprintf(stdout, "%d outputs, %d corrupt, %d half-written, %d orphaned, %d stale temporary folders\n",
		n, count[store.Corrupt], count[store.HalfWritten], count[store.Orphaned], count[store.Stale])
	if len(problems) > 0 {
		hint := " (--repair moves bad objects aside and removes stale folders)"
		if *repair {
			hint = ""
		}
		return fmt.Errorf("%d problems in %s%s", len(problems), storeDir, hint)
	}
	return nil
}

// openStoreOnly parses a command's flags, refuses positional arguments and
// opens the store that the --store flag (bound to dir) names.
func openStoreOnly(fs *flag.FlagSet, args []string, dir *string) (*store.Store, error) {
	pos, err := parseFlags(fs, args)
	if err != nil {
		return nil, err
	}
	if len(pos) > 0 {
		return nil, usagef("unexpected argument %q", pos[0])
	}
	return store.Open(*dir)
}

func runRunsList(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("runs list", stderr)
	var storeDir string
	storeFlag(fs, &storeDir)
	s, err := openStoreOnly(fs, args, &storeDir)
	if err != nil {
		return err
	}
	keys, err := s.Keys()
	if err != nil {
		return err
	}
	var ms []*store.Manifest
	for _, k := range keys {
		m, err := s.Manifest(k)
		if err != nil {
			return err
		}
		ms = append(ms, m)
	}
	sort.SliceStable(ms, func(a, b int) bool { return ms[a].Created.Before(ms[b].Created) })
	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "KEY\tSTAGE\tCREATED\tSECONDS\tRUN\tSPEC")
	for _, m := range ms {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%.2f\t%s\t%s\n", m.Key[:12], m.Stage, m.Created.Format("2006-01-02 15:04:05"), m.Seconds, m.Run, m.Spec)
	}
	return tw.Flush()
}

func runRunsShow(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("runs show", stderr)
	var storeDir string
	storeFlag(fs, &storeDir)
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usagef("name one key")
	}
	s, err := store.Open(storeDir)
	if err != nil {
		return err
	}
	key, err := s.Resolve(pos[0])
	if err != nil {
		return err
	}
	m, err := s.Manifest(key)
	if err != nil {
		return err
	}
	b, _ := json.MarshalIndent(m, "", "  ")
	fmt.Fprintf(stdout, "%s\n%s\n", s.Path(key), b)
	return nil
}
