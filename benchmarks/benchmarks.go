// Package benchmarks is the registry of the LLaVA-1.5 benchmark scorers.
// Each benchmark lives in its own package (benchmarks/pope, benchmarks/mme,
// ...) whose doc comment states its metric; this package gives them one
// small interface, so the CLI and pipeline stages grade predictions alike:
//
//	s, err := benchmarks.Lookup("pope")
//	res, err := s.Score(benchmarks.Files{Questions: q, Answers: a, Annotations: dir})
//
// Every scorer reproduces the official script on the official files; bad
// input is refused with an error naming the file (and line), never scored as
// a silent zero. Where the official script still gives a number while it
// silently replaces or skips answers (a later answer to the same question,
// answers to questions it does not have: GQA, SEED, ScienceQA), the scorer
// gives the same number and says what it skipped in Result.Warnings.
package benchmarks

import (
	"fmt"
	"sort"
	"strings"

	"github.com/tive-dev/tive/benchmarks/gqa"
	"github.com/tive-dev/tive/benchmarks/internal/input"
	"github.com/tive-dev/tive/benchmarks/llavabench"
	"github.com/tive-dev/tive/benchmarks/mmbench"
	"github.com/tive-dev/tive/benchmarks/mme"
	"github.com/tive-dev/tive/benchmarks/mmvet"
	"github.com/tive-dev/tive/benchmarks/pope"
	"github.com/tive-dev/tive/benchmarks/scienceqa"
	"github.com/tive-dev/tive/benchmarks/seed"
	"github.com/tive-dev/tive/benchmarks/textvqa"
	"github.com/tive-dev/tive/benchmarks/vizwiz"
	"github.com/tive-dev/tive/benchmarks/vqav2"
)

// SyntaxError is a malformed line (file:line); DataError is well-formed
// input the official flow would crash on or misscore.
type (
	SyntaxError = input.SyntaxError
	DataError   = input.DataError
)

// The kinds of DataError.
var (
	ErrEmpty     = input.ErrEmpty
	ErrDuplicate = input.ErrDuplicate
	ErrUnknown   = input.ErrUnknown
	ErrMissing   = input.ErrMissing
	ErrInvalid   = input.ErrInvalid
)

// Files names a benchmark's inputs, in LLaVA's playground/data/eval layout.
type Files struct {
	Questions   string // LLaVA question file (for mmbench: the dev TSV)
	Answers     string // LLaVA answer file (JSON Lines)
	Annotations string // ground truth or judge outputs: a file or a folder
}

// Result is a benchmark's score.
type Result struct {
	Benchmark string             `json:"benchmark"`
	Score     float64            `json:"score"`   // the headline, in the paper's unit
	Metrics   map[string]float64 `json:"metrics"` // every sub-metric the official script prints
	// Warnings says what the official script replaced or skipped silently
	// and this scorer did too (duplicate answers, answers to questions the
	// ground truth lacks), so that the number is the official one.
	Warnings []string `json:"warnings,omitempty"`
}

// A Scorer grades one benchmark's answer file.
type Scorer interface {
	// Name is the registry name, e.g. "pope".
	Name() string
	// Describe says what Score is, e.g. "mean F1 over categories x100".
	Describe() string
	// Score returns the official number, or an error for unreadable or
	// inconsistent input: a *SyntaxError for a malformed line, or a
	// *DataError matching ErrDuplicate, ErrUnknown, ErrMissing, ErrEmpty or
	// ErrInvalid (errors.Is), or an error from the file system.
	Score(f Files) (Result, error)
}

// An Exporter writes the file the official flow uploads to an evaluation
// server (VQAv2, VizWiz, MMBench, SEED) or hands to an eval tool (MME).
type Exporter interface {
	// Export writes the upload for f.Answers to path (a file, or for MME a
	// folder; for MMBench an .xlsx path gets the xlsx sheet, any other a
	// TSV). Annotations are only needed where the format needs them.
	Export(f Files, path string) error
}

type report interface {
	Headline() float64
	Metrics() map[string]float64
}

type scorer[R report] struct {
	name, desc string
	score      func(questions, answers, annotations string) (R, error)
	export     func(f Files, path string) error
}

func (s scorer[R]) Name() string     { return s.name }
func (s scorer[R]) Describe() string { return s.desc }

func (s scorer[R]) Score(f Files) (Result, error) {
	if f.Answers == "" && s.name != "llavabench" && s.name != "mmvet" {
		return Result{}, fmt.Errorf("%s: no answer file", s.name)
	}
	r, err := s.score(f.Questions, f.Answers, f.Annotations)
	if err != nil {
		return Result{}, err
	}
	res := Result{Benchmark: s.name, Score: r.Headline(), Metrics: r.Metrics()}
	if w, ok := any(r).(interface{ Warnings() []string }); ok {
		res.Warnings = w.Warnings()
	}
	return res, nil
}

type exporter[R report] struct{ scorer[R] }

func (e exporter[R]) Export(f Files, path string) error { return e.export(f, path) }

var registry = map[string]Scorer{}

func add[R report](name, desc string, score func(q, a, ann string) (R, error), export func(Files, string) error) {
	s := scorer[R]{name: name, desc: desc, score: score, export: export}
	if export != nil {
		registry[name] = exporter[R]{s}
	} else {
		registry[name] = s
	}
}

func init() {
	add("pope", "POPE: mean F1 over categories x100", pope.Score, nil)
	add("mme", "MME: perception total (max 2000)", mme.Score, exportMME)
	add("mmbench", "MMBench: CircularEval accuracy x100", mmbench.Score, exportMMBench)
	add("mmbench-cn", "MMBench-CN: CircularEval accuracy x100", mmbench.Score, exportMMBench)
	add("seed", "SEED-Bench: image accuracy x100", seed.Score, func(f Files, path string) error {
		return seed.WriteUpload(path, f.Answers, f.Annotations)
	})
	add("scienceqa", "ScienceQA: IMG accuracy x100", scienceqa.Score, nil)
	add("textvqa", "TextVQA: VQA accuracy x100", textvqa.Score, nil)
	add("gqa", "GQA: accuracy x100", gqa.Score, nil)
	add("vizwiz", "VizWiz: VQA accuracy x100", vizwiz.Score, func(f Files, path string) error {
		return vizwiz.WriteUpload(path, f.Questions, f.Answers)
	})
	add("vqav2", "VQAv2: VQA accuracy x100", vqav2.Score, func(f Files, path string) error {
		return vqav2.WriteUpload(path, f.Questions, f.Answers)
	})
	add("mmvet", "MM-Vet: total score (GPT-4 judge)", mmvet.Score, nil)
	add("llavabench", "LLaVA-Bench: overall relative score (GPT-4 judge)", llavabench.Score, nil)
}

func exportMMBench(f Files, path string) error {
	tsv := f.Questions
	if tsv == "" {
		tsv = f.Annotations
	}
	if strings.HasSuffix(path, ".xlsx") {
		return mmbench.WriteSubmissionXLSX(path, tsv, f.Answers)
	}
	return mmbench.WriteSubmission(path, tsv, f.Answers)
}

func exportMME(f Files, path string) error { return mme.Export(path, f.Answers, f.Annotations) }

// Lookup returns the scorer registered under name.
func Lookup(name string) (Scorer, error) {
	if s, ok := registry[name]; ok {
		return s, nil
	}
	return nil, fmt.Errorf("unknown benchmark %q (valid: %s)", name, strings.Join(Names(), ", "))
}

// Names lists the registered benchmarks, sorted.
func Names() []string {
	names := make([]string, 0, len(registry))
	for n := range registry {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}
