package world

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"

	"github.com/tive-dev/tive/harness/atomic"
)

// Suites lists the eight benchmark suites; each lives in DIR/benchmarks/<name>.
func Suites() []string {
	return []string{"mme", "mmbench", "seed", "scienceqa", "pope", "textvqa", "gqa", "vizwiz"}
}

// file is a non-image output of a suite.
type file struct {
	path string // relative to the output folder
	data []byte
}

// suite accumulates one benchmark's files and images.
type suite struct {
	g     *gen
	name  string
	files []file
	n     int // questions
}

func (s *suite) dir(rel string) string { return "benchmarks/" + s.name + "/" + rel }

func (s *suite) add(rel string, data []byte) { s.files = append(s.files, file{s.dir(rel), data}) }

func (s *suite) addJSON(rel string, v any) {
	b, err := marshal(v, "")
	if err != nil {
		panic(err) // plain data structures always marshal
	}
	s.add(rel, b)
}

func (s *suite) addJSONL(rel string, lines []any) {
	var buf bytes.Buffer
	for _, l := range lines {
		b, err := marshal(l, "")
		if err != nil {
			panic(err)
		}
		buf.Write(b)
		buf.WriteByte('\n')
	}
	s.add(rel, buf.Bytes())
}

func (s *suite) image(rel string, sc Scene) { s.g.jobs = append(s.g.jobs, job{s.dir(rel), sc}) }

// scene draws a benchmark scene that no training scene equals; heldOut
// restricts the art to the held-out style.
func (s *suite) scene(r *rand.Rand, o sceneOpts, heldOut bool) Scene {
	if o.styles == nil {
		o.styles = s.g.train
		if heldOut {
			o.styles = []int{s.g.heldOut}
		}
	}
	for {
		sc := s.g.sample(r, o)
		if !s.g.trainKeys[sc.key()] {
			return sc
		}
	}
}

// benchmarks builds all suites with about n questions each.
func (g *gen) benchmarks(n int) ([]file, []Count) {
	var files []file
	var counts []Count
	for _, name := range Suites() {
		s := &suite{g: g, name: name}
		r := stream(g.cfg.Seed, "bench/"+name)
		switch name {
		case "mme":
			s.mme(r, n)
		case "mmbench":
			s.mmbench(r, n)
		case "seed":
			s.seed(r, n)
		case "scienceqa":
			s.scienceqa(r, n)
		case "pope":
			s.pope(r, n)
		case "textvqa":
			s.textvqa(r, n)
		case "gqa":
			s.gqa(r, n)
		case "vizwiz":
			s.vizwiz(r, n)
		}
		files = append(files, s.files...)
		counts = append(counts, Count{name, s.n})
	}
	return files, counts
}

// An Answer is one line of a LLaVA answer file (model_vqa_loader format;
// MMBench lines add round_id, options and option_char).
type Answer struct {
	QuestionID any            `json:"question_id"`
	RoundID    *int           `json:"round_id,omitempty"`
	Prompt     string         `json:"prompt"`
	Text       string         `json:"text"`
	Options    []string       `json:"options,omitempty"`
	OptionChar []string       `json:"option_char,omitempty"`
	AnswerID   string         `json:"answer_id"`
	ModelID    string         `json:"model_id"`
	Metadata   map[string]any `json:"metadata"`
}

// OracleAnswers reads the question and ground-truth files of suite in dir
// (DIR/benchmarks/<suite>) and returns the answer file of a model that is
// always right, one line per question in question-file order.
func OracleAnswers(suite, dir string) ([]Answer, error) {
	var ans []Answer
	var err error
	switch suite {
	case "mme":
		ans, err = oracleMME(dir)
	case "mmbench":
		ans, err = oracleMMBench(dir)
	case "seed":
		ans, err = oracleSEED(dir)
	case "scienceqa":
		ans, err = oracleScienceQA(dir)
	case "pope":
		ans, err = oraclePOPE(dir)
	case "textvqa":
		ans, err = oracleTextVQA(dir)
	case "gqa":
		ans, err = oracleGQA(dir)
	case "vizwiz":
		ans, err = oracleVizWiz(dir)
	default:
		return nil, fmt.Errorf("world: unknown suite %q (valid: %v)", suite, Suites())
	}
	if err != nil {
		return nil, fmt.Errorf("world: %s oracle: %w", suite, err)
	}
	for i := range ans {
		ans[i].ModelID = "oracle"
		ans[i].AnswerID = fmt.Sprintf("oracle-%d", i)
		ans[i].Metadata = map[string]any{}
	}
	return ans, nil
}

// ConstantAnswers is the answer file of a model that always says text.
func ConstantAnswers(suite, dir, text string) ([]Answer, error) {
	ans, err := OracleAnswers(suite, dir)
	for i := range ans {
		ans[i].Text = text
		ans[i].ModelID = "constant"
	}
	return ans, err
}

// OneLine replaces the line breaks and tabs of a decoded answer by spaces.
// LLaVA's answer files hold whatever the model decoded, but MME's official
// tool reads one tab-separated answer per line and cannot read a line break
// inside one, and the VQA scorers turn them into spaces anyway; so answers
// go into answer files through OneLine (the predict stage, version 2).
func OneLine(s string) string { return oneLine.Replace(s) }

var oneLine = strings.NewReplacer("\r\n", " ", "\n", " ", "\r", " ", "\t", " ")

// WriteAnswers atomically writes answer lines as JSON Lines to path.
func WriteAnswers(path string, ans []Answer) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	return atomic.Write(path, 0o644, func(w io.Writer) error {
		enc := json.NewEncoder(w)
		enc.SetEscapeHTML(false)
		for _, a := range ans {
			if err := enc.Encode(a); err != nil {
				return err
			}
		}
		return nil
	})
}

// readJSONL decodes every line of path into a new T.
func readJSONL[T any](path string) ([]T, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []T
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<26)
	for ln := 1; sc.Scan(); ln++ {
		if len(bytes.TrimSpace(sc.Bytes())) == 0 {
			continue
		}
		var v T
		if err := json.Unmarshal(sc.Bytes(), &v); err != nil {
			return nil, fmt.Errorf("%s:%d: %w", path, ln, err)
		}
		out = append(out, v)
	}
	return out, sc.Err()
}

func readJSON(path string, v any) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return nil
}

// llavaQ is a line of a LLaVA question file.
type llavaQ struct {
	QuestionID any    `json:"question_id"`
	Image      string `json:"image,omitempty"`
	Text       string `json:"text"`
	Category   string `json:"category,omitempty"`
}
