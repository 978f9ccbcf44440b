package main

import (
	"encoding/json"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tive-dev/tive/harness/data"
	"github.com/tive-dev/tive/harness/model"
)

// TestProbeCommand probes an untrained model on the synthetic task: one row
// per kind of question plus "all", which counts every short-answer question
// of the records with an image; bad flags are a usage error.
func TestProbeCommand(t *testing.T) {
	dir := t.TempDir()
	recs, imgs := model.Synthetic(60, 3)
	for p, img := range imgs {
		f := filepath.Join(dir, "images", p)
		os.MkdirAll(filepath.Dir(f), 0o755)
		w, _ := os.Create(f)
		png.Encode(w, img)
		w.Close()
	}
	type rec struct {
		ID            string      `json:"id"`
		Image         string      `json:"image,omitempty"`
		Conversations []data.Turn `json:"conversations"`
	}
	var list []rec
	for _, r := range recs {
		list = append(list, rec{r.ID, r.Image, r.Conversations})
	}
	js, _ := json.Marshal(list)
	os.WriteFile(filepath.Join(dir, "recs.json"), js, 0o644)
	m, err := model.New(model.DefaultConfig(), model.BuildVocab(recs, 1), 1)
	if err != nil {
		t.Fatal(err)
	}
	if err := model.Save(filepath.Join(dir, "model"), m, nil); err != nil {
		t.Fatal(err)
	}
	want := 0
	for _, r := range recs {
		for i := 1; r.Image != "" && i < len(r.Conversations); i += 2 {
			if n := len(strings.Fields(r.Conversations[i].Value)); n > 0 && n <= 2 {
				want++
			}
		}
	}
	code, out, errs := runTive(t, "probe", "--model", filepath.Join(dir, "model"), "--records", filepath.Join(dir, "recs.json"),
		"--images", filepath.Join(dir, "images"), "--json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	var rows []model.ProbeRow
	if err := json.Unmarshal([]byte(out), &rows); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	sum := 0
	for _, r := range rows[:len(rows)-1] {
		sum += r.N
	}
	if all := rows[len(rows)-1]; want == 0 || all.Kind != "all" || all.N != want || sum != want {
		t.Errorf("rows %+v: want kinds summing to %d questions and a last row \"all\"", rows, want)
	}
	if code, _, _ := runTive(t, "probe", "--model", filepath.Join(dir, "model")); code != 2 {
		t.Errorf("missing --records: exit %d, want 2", code)
	}
}
