package world_test

import (
	"context"
	"fmt"
	"log"
	"os"
	"path/filepath"

	"github.com/tive-dev/tive/harness/world"
)

// Generate a world, then write the answer file of a model that is always
// right on POPE (what the official scorer grades at 100).
func Example() {
	dir, err := os.MkdirTemp("", "world")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	cfg := world.Config{Seed: 1, Profile: "tiny", Assets: "shapes"}
	if err := cfg.Validate(); err != nil {
		log.Fatal(err)
	}
	if err := world.Generate(context.Background(), cfg, dir, nil); err != nil {
		log.Fatal(err)
	}
	ans, err := world.OracleAnswers("pope", filepath.Join(dir, "benchmarks", "pope"))
	if err != nil {
		log.Fatal(err)
	}
	if err := world.WriteAnswers(filepath.Join(dir, "answers", "pope-oracle.jsonl"), ans); err != nil {
		log.Fatal(err)
	}
	fmt.Println(len(ans) > 0, ans[0].Text == "Yes" || ans[0].Text == "No")
	// Output: true true
}
