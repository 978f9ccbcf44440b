package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestWorldGenerateAndPreview(t *testing.T) {
	dir := t.TempDir()
	var out, errb bytes.Buffer
	if code := run([]string{"world", "generate", "--profile", "tiny", "--assets", "shapes", "--seed", "5", "--out", dir}, &out, &errb); code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	if !strings.Contains(out.String(), "task  llava_instruct") || !strings.Contains(out.String(), "bench pope") {
		t.Errorf("summary lacks tasks or benchmarks:\n%s", out.String())
	}
	for _, f := range []string{"mixture.json", "pretrain.json", "world.json", "benchmarks/pope/llava_pope_test.jsonl"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Error(err)
		}
	}
	out.Reset()
	if code := run([]string{"world", "preview", dir}, &out, &errb); code != 0 {
		t.Fatalf("preview exit %d: %s", code, errb.String())
	}
	for _, f := range []string{"task-refcoco.png", "task-sharegpt.png", "bench-mmbench.png", "overview.png"} {
		if _, err := os.Stat(filepath.Join(dir, "preview", f)); err != nil {
			t.Error(err)
		}
	}
}

func TestWorldGenerateRefusesBadInput(t *testing.T) {
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"world", "generate", "--profile", "huge", "--out", t.TempDir()}, 2, `unknown profile "huge"`},
		{[]string{"world", "generate", "--profile", "quick"}, 2, "--out is required"},
		{[]string{"world", "generate", "--image-size", "8", "--out", t.TempDir()}, 2, "image size 8 is impossible"},
		{[]string{"world", "generate", "--profile", "tiny", "--assets-dir", t.TempDir(), "--out", t.TempDir()}, 1, "scripts/fetch-assets.sh"},
	} {
		var out, errb bytes.Buffer
		code := run(tc.args, &out, &errb)
		if code != tc.code || !strings.Contains(errb.String(), tc.want) {
			t.Errorf("%v: exit %d, stderr %q; want exit %d and %q", tc.args, code, errb.String(), tc.code, tc.want)
		}
	}
}
