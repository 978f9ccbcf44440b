package main

import (
	"fmt"
	"io"
	"os"

	"github.com/tive-dev/tive/harness/grad"
)

func init() {
	register(&command{
		name:    "features merge",
		usage:   "STORE_DIR --out DIR [--prefix P] [--no-verify]",
		summary: "check a sharded feature store and merge it into one features .npy and one .npy per vector",
		run:     runFeaturesMerge,
	})
}

func runFeaturesMerge(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("features merge", stderr)
	out := fs.String("out", "", "output folder for <prefix>features.npy and <prefix><vector>.npy")
	prefix := fs.String("prefix", "", "prefix of the output file names")
	noVerify := fs.Bool("no-verify", false, "skip the SHA-256 check of every shard (sizes are still checked)")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 || *out == "" {
		return usagef("name one store folder and --out")
	}
	st, err := grad.OpenStore(pos[0], !*noVerify)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(*out, 0o755); err != nil {
		return err
	}
	if err := st.Merge(*out, *prefix); err != nil {
		return err
	}
	p := st.Projector()
	fmt.Fprintf(stdout, "merged %d shards: %d x %d %s (%s projector, seed %d) -> %s\n", len(st.Shards), st.Len(), st.Dim(), p.Dtype, p.Kind, p.Seed, *out)
	return nil
}
