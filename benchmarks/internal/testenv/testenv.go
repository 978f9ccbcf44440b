// Package testenv locates the shared LLaVA evaluation pack for tests.
package testenv

import (
	"encoding/json"
	"errors"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/tive-dev/tive/benchmarks/internal/input"
)

// LlavaEval returns the path of ../shared/llava-eval beside the repository
// root (found by walking up to go.mod). The pack is part of CI, so a missing
// pack fails the test rather than skipping it.
func LlavaEval(t testing.TB) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			break
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("testenv: no go.mod above the test directory")
		}
		dir = parent
	}
	pack := filepath.Join(dir, "..", "shared", "llava-eval")
	if _, err := os.Stat(filepath.Join(pack, "EXPECTED.json")); err != nil {
		t.Fatalf("testenv: the shared LLaVA evaluation pack is missing (want %s): %v", pack, err)
	}
	return pack
}

// Expected decodes the part of EXPECTED.json under key into v.
func Expected(t testing.TB, key string, v any) {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(LlavaEval(t), "EXPECTED.json"))
	if err != nil {
		t.Fatal(err)
	}
	var all map[string]json.RawMessage
	if err := json.Unmarshal(data, &all); err != nil {
		t.Fatal(err)
	}
	raw, ok := all[key]
	if !ok {
		t.Fatalf("EXPECTED.json has no %q", key)
	}
	if err := json.Unmarshal(raw, v); err != nil {
		t.Fatal(err)
	}
}

// WriteFile writes data to a fresh temporary file named name and returns
// its path.
func WriteFile(t testing.TB, name string, data []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// Finite fails the test if the headline or a metric is NaN or infinite:
// a scorer must refuse input it cannot score rather than print NaN.
func Finite(t testing.TB, headline float64, metrics map[string]float64) {
	t.Helper()
	if math.IsNaN(headline) || math.IsInf(headline, 0) {
		t.Fatalf("headline %v", headline)
	}
	for k, v := range metrics {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			t.Fatalf("metric %s = %v", k, v)
		}
	}
}

// Typed fails the test unless err is nil, a *input.SyntaxError or a
// *input.DataError (or a file-system error, which fuzzing never causes).
func Typed(t testing.TB, err error) {
	t.Helper()
	if err == nil {
		return
	}
	var se *input.SyntaxError
	var de *input.DataError
	if !errors.As(err, &se) && !errors.As(err, &de) {
		t.Fatalf("untyped error: %v", err)
	}
}

// Files writes each name's content (a name may hold folders) into one fresh
// temporary folder and returns a function that gives a name's path there.
func Files(t testing.TB, files map[string][]byte) (path func(name string) string) {
	t.Helper()
	dir := t.TempDir()
	for name, data := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return func(name string) string { return filepath.Join(dir, name) }
}

// A Result is a scorer's result.
type Result interface {
	Headline() float64
	Metrics() map[string]float64
}

// Scored checks what a scorer made of fuzzed input: a typed error (Typed),
// or a result whose scores are all finite (Finite).
func Scored(t testing.TB, r Result, err error) {
	t.Helper()
	Typed(t, err)
	if err == nil {
		Finite(t, r.Headline(), r.Metrics())
	}
}
