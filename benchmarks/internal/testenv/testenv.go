// Package testenv locates the shared LLaVA evaluation pack for tests.
package testenv

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
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
