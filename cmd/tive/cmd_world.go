package main

import (
	"context"
	"fmt"
	"io"
	"path/filepath"
	"strings"

	"github.com/tive-dev/tive/harness/world"
)

func init() {
	register(&command{
		name:    "world generate",
		usage:   "--out DIR [--seed N] [--profile " + strings.Join(world.Profiles(), "|") + "] [--assets emoji|shapes] [--assets-dir DIR] [--image-size PX] [--exact F] [--near F]",
		summary: "generate the built-in visual world (mixture, pretrain captions, images, eight benchmark suites)",
		run:     runWorldGenerate,
	})
	register(&command{
		name:    "world preview",
		usage:   "DIR [--out DIR/preview]",
		summary: "write contact-sheet PNGs of a generated world, one per task and per benchmark",
		run:     runWorldPreview,
	})
}

func runWorldGenerate(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("world generate", stderr)
	var cfg world.Config
	fs.Uint64Var(&cfg.Seed, "seed", 1, "world seed")
	fs.StringVar(&cfg.Profile, "profile", "quick", "size: "+strings.Join(world.Profiles(), ", "))
	fs.StringVar(&cfg.Assets, "assets", "emoji", "art: emoji (run scripts/fetch-assets.sh first) or shapes")
	fs.StringVar(&cfg.AssetsDir, "assets-dir", "", "folder of the fetched asset tarballs (default .cache/assets or $TIVE_ASSETS_DIR)")
	fs.IntVar(&cfg.ImageSize, "image-size", 64, "image side in pixels (48..128)")
	fs.Float64Var(&cfg.Redundancy.Exact, "exact", 0, "fraction of each task's records planted as exact duplicates")
	fs.Float64Var(&cfg.Redundancy.Near, "near", 0, "fraction of each task's records planted as near duplicates")
	out := fs.String("out", "", "output folder (required)")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usagef("unexpected argument %q", pos[0])
	}
	if *out == "" {
		return usagef("--out is required")
	}
	if err := cfg.Validate(); err != nil {
		return usagef("%v", err)
	}
	last := -1
	progress := func(done, total int) {
		if pct := done * 10 / total; pct != last {
			last = pct
			fmt.Fprintf(stderr, "world: %d/%d files\n", done, total)
		}
	}
	if err := world.Generate(context.Background(), cfg, *out, progress); err != nil {
		return err
	}
	m, err := world.ReadManifest(*out)
	if err != nil {
		return err
	}
	total := 0
	for _, t := range m.Tasks {
		total += t.N
	}
	fmt.Fprintf(stdout, "world %s seed %d (%s): %d training records, %d pretrain captions, %d images\n", m.Profile, m.Seed, m.Assets, total, m.Pretrain, m.Images)
	for _, t := range m.Tasks {
		fmt.Fprintf(stdout, "  task  %-15s %6d\n", t.Name, t.N)
	}
	for _, c := range m.Benchmarks {
		fmt.Fprintf(stdout, "  bench %-15s %6d\n", c.Name, c.N)
	}
	return nil
}

func runWorldPreview(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("world preview", stderr)
	out := fs.String("out", "", "folder for the contact sheets (default DIR/preview)")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usagef("want one world folder")
	}
	if *out == "" {
		*out = filepath.Join(pos[0], "preview")
	}
	paths, err := world.Preview(pos[0], *out)
	if err != nil {
		return err
	}
	for _, p := range paths {
		fmt.Fprintln(stdout, p)
	}
	return nil
}
