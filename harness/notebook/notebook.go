// Package notebook is the harness as a notebook uses it: open a checkout,
// load a study of experiments/ under a profile, override its parameters, run
// it through the run store (stages the store holds are reused, so a finished
// study returns at once) and get its tables as Markdown and its plots as PNG.
//
//	nb := notebook.Open("..")
//	rep, err := nb.Run(nb.Study("ratio", "smoke").Sweep("seed", []int{0, 1}))
//	md, err := rep.Markdown("ratio") // caption and table, as results/<profile>/ratio.md
//	png, err := rep.PNG("ratio")
//
// Tables and plots are those of package report, computed as `tive
// reproduce` computes them, so a study run with its profile's own
// parameters shows the tables of results/<profile>/ (wall times aside: they
// are those of whichever store ran the stages).
package notebook

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"

	"github.com/tive-dev/tive/harness/pipeline"
	"github.com/tive-dev/tive/harness/pipeline/stages"
	"github.com/tive-dev/tive/harness/report"
	"github.com/tive-dev/tive/harness/spec"
	"github.com/tive-dev/tive/harness/store"
	"github.com/tive-dev/tive/harness/study"
)

// Project is a checkout of the harness: its experiments/ and results/
// folders and a run store.
type Project struct {
	Root  string // the folder holding experiments/ and results/
	Store string // the run store folder
	// Progress receives a line when a stage starts to run and one when it
	// ends (cached stages, and the percentages within a stage, are not
	// reported); nil: silent.
	Progress io.Writer
	Workers  int // goroutines per stage (0: all cores)
}

// Open returns the project rooted at root, with the tive command's store:
// $TIVE_STORE, or root/.tive/store. Progress goes to os.Stderr. Nothing is
// read until a study is loaded.
func Open(root string) *Project {
	store := os.Getenv("TIVE_STORE")
	if store == "" {
		store = filepath.Join(root, ".tive", "store")
	}
	return &Project{Root: root, Store: store, Progress: os.Stderr}
}

// Study is a study of the project (experiments/<name>.yaml) under a profile,
// with overrides; Set and Sweep return the study, so calls chain.
type Study struct {
	Name, Profile string
	p             *Project
	over          []spec.Override
	err           error
}

// Study returns the study experiments/<name>.yaml under profile ("" for
// the spec without a profile).
func (p *Project) Study(name, profile string) *Study {
	return &Study{Name: name, Profile: profile, p: p}
}

// Set gives a key path ("selection.q", "train.lr") the value v in every run
// of the study (spec.Set).
func (s *Study) Set(path string, v any) *Study {
	s.over = append(s.over, spec.Set(path, v))
	return s
}

// Sweep makes the study's sweep take the values of a slice at a key path
// ("seed", "selection.method", "selection.budget"; spec.Sweep). A nil or
// empty slice leaves the sweep as the spec and profile have it, so a
// notebook parameter left empty means "as the profile says"; values that are
// not a slice are an error of Load and Run.
func (s *Study) Sweep(path string, values any) *Study {
	v := reflect.ValueOf(values)
	if values == nil || ((v.Kind() == reflect.Slice || v.Kind() == reflect.Array) && v.Len() == 0) {
		return s
	}
	if v.Kind() != reflect.Slice && v.Kind() != reflect.Array {
		s.err = fmt.Errorf("%s: Sweep(%q, %v): values must be a slice, not %T", s.Name, path, values, values)
		return s
	}
	vals := make([]any, v.Len())
	for i := range vals {
		vals[i] = v.Index(i).Interface()
	}
	s.over = append(s.over, spec.Sweep(path, vals...))
	return s
}

// Load reads and checks the study's spec with its profile and overrides;
// its problems are spec.Problems.
func (s *Study) Load() (*spec.Study, error) {
	if s.err != nil {
		return nil, s.err
	}
	return spec.Load(filepath.Join(s.p.Root, "experiments", s.Name+".yaml"), s.Profile, s.over...)
}

// Report is what a Run or Results gives: the summary that tables and plots
// are made from, and for a run the stage output folders of every run.
type Report struct {
	Summary *report.Summary
	// Ran and Cached count the stages a Run ran and found in the store
	// (both 0 for Results).
	Ran, Cached int
	results     map[string]*pipeline.Results // study name -> results file
}

// Run loads the studies, all of one profile, and runs each, in order,
// through the store; stages the store holds are not run again. Studies run
// together report together: the ratio plot draws main's full-data score
// when main is one of them, and the proportion and influence plots are
// main's.
func (p *Project) Run(studies ...*Study) (*Report, error) {
	if len(studies) == 0 {
		return nil, fmt.Errorf("Run: no study")
	}
	var loaded []*spec.Study
	for _, s := range studies {
		if s.Profile != studies[0].Profile {
			return nil, fmt.Errorf("Run: %s has profile %q, %s %q (a report is of one profile)", s.Name, s.Profile, studies[0].Name, studies[0].Profile)
		}
		st, err := s.Load()
		if err != nil {
			return nil, err
		}
		loaded = append(loaded, st)
	}
	s, err := store.Open(p.Store)
	if err != nil {
		return nil, err
	}
	var progress io.Writer
	if p.Progress != nil {
		progress = &quiet{w: p.Progress}
	}
	r := &pipeline.Runner{Store: s, Plan: stages.Plan, Progress: progress, Workers: p.Workers}
	rep := &Report{Summary: &report.Summary{Profile: studies[0].Profile}, results: map[string]*pipeline.Results{}}
	for _, st := range loaded {
		o, err := study.Run(context.Background(), r, st)
		if err != nil {
			return nil, err
		}
		rep.Ran, rep.Cached = rep.Ran+o.Ran, rep.Cached+o.Cached
		if rep.results[o.Study.Name], err = pipeline.ReadResults(o.Summary.Results); err != nil {
			return nil, err
		}
		rep.Summary.Studies = append(rep.Summary.Studies, o.Study)
	}
	return rep, nil
}

// Results reads the committed results of a profile
// (results/<profile>/summary.json, written by `tive reproduce`) without
// running anything.
func (p *Project) Results(profile string) (*Report, error) {
	s, err := report.ReadSummary(filepath.Join(p.Root, "results", profile, report.SummaryFile))
	if err != nil {
		return nil, err
	}
	return &Report{Summary: s}, nil
}

// Profiles lists the profiles with results in results/ (those with a
// summary.json), in the order smoke, quick, full, then any other by name.
func (p *Project) Profiles() ([]string, error) {
	m, err := filepath.Glob(filepath.Join(p.Root, "results", "*", report.SummaryFile))
	if err != nil {
		return nil, err
	}
	rank := func(s string) int {
		if i := slices.Index([]string{"smoke", "quick", "full"}, s); i >= 0 {
			return i
		}
		return 3
	}
	var out []string
	for _, f := range m {
		out = append(out, filepath.Base(filepath.Dir(f)))
	}
	slices.SortFunc(out, func(a, b string) int {
		if ra, rb := rank(a), rank(b); ra != rb {
			return ra - rb
		}
		return strings.Compare(a, b)
	})
	return out, nil
}

// String says what the report holds and, for a run, how much of it the
// store already had: "ratio (smoke): 12 runs; 0 stages ran, 97 cached".
func (r *Report) String() string {
	var names []string
	runs := 0
	for _, st := range r.Summary.Studies {
		names = append(names, st.Name)
		runs += len(st.Runs)
	}
	s := fmt.Sprintf("%s (%s): %d runs", strings.Join(names, ", "), r.Summary.Profile, runs)
	if r.results != nil {
		s += fmt.Sprintf("; %d stages ran, %d cached", r.Ran, r.Cached)
	}
	return s
}

// Study returns the summary of one study of the report (nil if absent).
func (r *Report) Study(name string) *report.Study { return r.Summary.Study(name) }

// Tables returns every table the report supports (report.Tables).
func (r *Report) Tables() []*report.Table { return report.Tables(r.Summary) }

// Table returns the table of that name ("main", "tasks", "ratio", ...).
func (r *Report) Table(name string) (*report.Table, error) {
	var have []string
	for _, t := range r.Tables() {
		if t.Name == name {
			return t, nil
		}
		have = append(have, t.Name)
	}
	return nil, fmt.Errorf("no table %q in %s (tables: %s)", name, r, strings.Join(have, ", "))
}

// Markdown renders a table as `tive reproduce` writes results/<profile>/<name>.md:
// its caption, a blank line and a GitHub Markdown table.
func (r *Report) Markdown(name string) (string, error) {
	t, err := r.Table(name)
	if err != nil {
		return "", err
	}
	var b bytes.Buffer
	if err := t.Markdown(&b); err != nil {
		return "", err
	}
	return b.String(), nil
}

// Plot returns the plot of that name ("redundancy", "ratio",
// "proportions", "influence", "cost").
func (r *Report) Plot(name string) (*report.Figure, error) {
	plots, err := report.Plots(r.Summary)
	if err != nil {
		return nil, err
	}
	var have []string
	for _, f := range plots {
		if f.Name == name {
			return f, nil
		}
		have = append(have, f.Name)
	}
	return nil, fmt.Errorf("no plot %q in %s (plots: %s)", name, r, strings.Join(have, ", "))
}

// PNG renders a plot as PNG, at the size results/<profile>/<name>.png has.
func (r *Report) PNG(name string) ([]byte, error) {
	f, err := r.Plot(name)
	if err != nil {
		return nil, err
	}
	return pngOf(f)
}

// ScoresPNG renders the average score of each condition of a study with
// its interval (report.ScorePlot) as PNG: a plot for the studies that
// results/ has only tables of (ablations, planted).
func (r *Report) ScoresPNG(study string) ([]byte, error) {
	st := r.Study(study)
	if st == nil {
		return nil, fmt.Errorf("no study %q in %s", study, r)
	}
	f, err := report.ScorePlot(st)
	if err != nil {
		return nil, err
	}
	if f == nil {
		return nil, fmt.Errorf("study %q has no benchmark scores", study)
	}
	return pngOf(f)
}

func pngOf(f *report.Figure) ([]byte, error) {
	wt, err := f.Plot.WriterTo(f.W, f.H, "png")
	if err != nil {
		return nil, err
	}
	var b bytes.Buffer
	if _, err := wt.WriteTo(&b); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// Output returns the store folder of one stage ("world", "features",
// "select", ...) of a study's run (the index into Study(study).Runs). Only
// a Run has outputs.
func (r *Report) Output(study string, run int, stage string) (string, error) {
	res, ok := r.results[study]
	if !ok {
		return "", fmt.Errorf("no run of study %q in %s", study, r)
	}
	if run < 0 || run >= len(res.Runs) {
		return "", fmt.Errorf("%s has runs 0..%d, not %d", study, len(res.Runs)-1, run)
	}
	dir, ok := res.Runs[run].Outputs[stage]
	if !ok {
		return "", fmt.Errorf("run %q of %s has no %s stage", res.Runs[run].Label, study, stage)
	}
	return dir, nil
}

// quietLine matches the runner's lines for a stage found in the store and
// its percentage lines within a stage ("[3/9] train (seed=0) [####....]  20% (1/5)").
var quietLine = regexp.MustCompile(`^\[\d+/\d+\] .*(: cached [0-9a-f]+| \[[#.]+\] +\d+% \(\d+/\d+\))\n$`)

// quiet passes whole lines to w but those quietLine matches.
type quiet struct {
	w    io.Writer
	line []byte
}

func (u *quiet) Write(p []byte) (int, error) {
	u.line = append(u.line, p...)
	for {
		i := bytes.IndexByte(u.line, '\n')
		if i < 0 {
			return len(p), nil
		}
		l := u.line[:i+1]
		if !quietLine.Match(l) {
			if _, err := u.w.Write(l); err != nil {
				return 0, err
			}
		}
		u.line = append(u.line[:0], u.line[i+1:]...)
	}
}
