package main

import (
	"fmt"
	"io"
	"math"
	"sort"
	"strconv"
	"strings"

	"github.com/olekukonko/tablewriter"
	"github.com/olekukonko/tablewriter/tw"

	"github.com/tive-dev/tive/benchmarks"
)

func init() {
	register(&command{
		name:    "score",
		usage:   "--bench NAME --questions Q --answers A [--annotations PATH] [--json] [--export PATH]",
		summary: "grade a LLaVA answer file with a benchmark's official metric",
		run:     runScore,
	})
}

func runScore(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("score", stderr)
	var (
		bench, export string
		files         benchmarks.Files
		showJSON      bool
	)
	fs.StringVar(&bench, "bench", "", "benchmark: "+strings.Join(benchmarks.Names(), ", "))
	fs.StringVar(&files.Questions, "questions", "", "LLaVA question file (mmbench: the dev TSV)")
	fs.StringVar(&files.Answers, "answers", "", "LLaVA answer file (JSON lines)")
	fs.StringVar(&files.Annotations, "annotations", "", "ground truth or judge outputs: a file or a folder, as the official script takes it")
	fs.BoolVar(&showJSON, "json", false, `print one JSON object {"benchmark", "score", "metrics"}`)
	fs.StringVar(&export, "export", "", "write the evaluation-server upload to PATH instead of scoring (vqav2, vizwiz: JSON; mmbench: .xlsx or TSV; seed: JSON lines; mme: eval-tool folder)")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usagef("unexpected argument %q", pos[0])
	}
	if bench == "" {
		return usagef("--bench is required (one of %s)", strings.Join(benchmarks.Names(), ", "))
	}
	s, err := benchmarks.Lookup(bench)
	if err != nil {
		return usagef("%v", err)
	}
	needAnswers := bench != "llavabench" && bench != "mmvet"
	if files.Answers == "" && needAnswers {
		return usagef("--answers is required")
	}
	if export != "" {
		e, ok := s.(benchmarks.Exporter)
		if !ok {
			return usagef("%s has no upload format to export", bench)
		}
		if err := e.Export(files, export); err != nil {
			return err
		}
		fmt.Fprintf(stderr, "tive score: wrote %s\n", export)
		return nil
	}
	if files.Annotations == "" && !strings.HasPrefix(bench, "mmbench") {
		return usagef("--annotations is required for %s", bench)
	}
	res, err := s.Score(files)
	if err != nil {
		return err
	}
	for _, w := range res.Warnings {
		fmt.Fprintf(stderr, "tive score: warning: %s: %s\n", files.Answers, w)
	}
	if showJSON {
		return writeJSONLine(stdout, res)
	}
	return writeScoreTable(stdout, s.Describe(), res)
}

// writeScoreTable prints the headline and every metric, sorted by name.
func writeScoreTable(w io.Writer, desc string, res benchmarks.Result) error {
	t := tablewriter.NewTable(w,
		tablewriter.WithHeaderAutoFormat(tw.Off),
		tablewriter.WithRowAlignment(tw.AlignLeft),
	)
	t.Header("metric", "value")
	if err := t.Append([]string{"score (" + desc + ")", formatMetric(res.Score)}); err != nil {
		return err
	}
	names := make([]string, 0, len(res.Metrics))
	for k := range res.Metrics {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		if err := t.Append([]string{k, formatMetric(res.Metrics[k])}); err != nil {
			return err
		}
	}
	return t.Render()
}

// formatMetric prints integers as integers and other values at full
// precision, so the table shows exactly what the JSON holds.
func formatMetric(v float64) string {
	if v == math.Trunc(v) && math.Abs(v) < 1e15 {
		return strconv.FormatFloat(v, 'f', -1, 64)
	}
	return strconv.FormatFloat(v, 'g', -1, 64)
}
