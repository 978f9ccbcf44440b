package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"

	"github.com/olekukonko/tablewriter"
	"github.com/olekukonko/tablewriter/tw"

	"github.com/tive-dev/tive/harness/data"
	"github.com/tive-dev/tive/harness/model"
)

func init() {
	register(&command{
		name:    "probe",
		usage:   "--model DIR --records R --images DIR [--limit N] [--json]",
		summary: "ask a built-in model its short-answer questions with and without the image",
		run:     runProbe,
	})
}

// runProbe prints model.Probe's table: per kind of question, how often the
// model is right with the record's image and with a black one.
func runProbe(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("probe", stderr)
	var modelDir, records, images string
	var limit int
	var showJSON bool
	fs.StringVar(&modelDir, "model", "", "a saved built-in model (a stage's model/ folder)")
	fs.StringVar(&records, "records", "", "instruction records (LLaVA JSON list or JSON lines), e.g. a world's mixture.json")
	fs.StringVar(&images, "images", "", "folder the records' image paths are relative to, e.g. a world's images/")
	fs.IntVar(&limit, "limit", 0, "ask only the first N records (0: all)")
	fs.BoolVar(&showJSON, "json", false, `print the rows as one JSON list [{"kind", "n", "real", "blank"}]`)
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 || modelDir == "" || records == "" || images == "" {
		return usagef("--model, --records and --images are required, and nothing else")
	}
	m, err := model.Load(modelDir)
	if err != nil {
		return err
	}
	recs, err := data.Load(records)
	if err != nil {
		return err
	}
	if limit > 0 && limit < len(recs) {
		recs = recs[:limit]
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	rows, err := model.Probe(ctx, m, recs, model.DirImages{Root: images})
	if err != nil {
		return err
	}
	if showJSON {
		return writeJSONLine(stdout, rows)
	}
	t := tablewriter.NewTable(stdout, tablewriter.WithHeaderAutoFormat(tw.Off), tablewriter.WithRowAlignment(tw.AlignLeft))
	t.Header("question", "n", "right with image", "right with black image", "difference")
	pct := func(k, n int) string { return fmt.Sprintf("%d (%.1f%%)", k, 100*float64(k)/float64(max(n, 1))) }
	for _, r := range rows {
		if err := t.Append([]string{r.Kind, fmt.Sprint(r.N), pct(r.Real, r.N), pct(r.Blank, r.N), fmt.Sprintf("%+.1f points", 100*float64(r.Real-r.Blank)/float64(max(r.N, 1)))}); err != nil {
			return err
		}
	}
	return t.Render()
}
