package main

import (
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"text/tabwriter"

	"github.com/tive-dev/tive/harness/pipeline"
)

func init() {
	register(&command{name: "runs list", usage: "[--store DIR]", summary: "list the stage outputs in the run store", run: runRunsList})
	register(&command{name: "runs show", usage: "KEY [--store DIR]", summary: "show one stage output's manifest (KEY may be a unique prefix)", run: runRunsShow})
}

func runRunsList(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("runs list", stderr)
	var store string
	storeFlag(fs, &store)
	if pos, err := parseFlags(fs, args); err != nil {
		return err
	} else if len(pos) > 0 {
		return usagef("unexpected argument %q", pos[0])
	}
	s, err := pipeline.OpenStore(store)
	if err != nil {
		return err
	}
	keys, err := s.Keys()
	if err != nil {
		return err
	}
	var ms []*pipeline.Manifest
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
	var store string
	storeFlag(fs, &store)
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usagef("name one key")
	}
	s, err := pipeline.OpenStore(store)
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
