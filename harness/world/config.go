// Package world generates the built-in visual world: small scenes of real
// emoji artwork (or procedural shapes), a training mixture that mirrors the
// ten sources of LLaVA-1.5's 665K instruction mixture in their counts and
// prompt conventions, a pretraining caption set, and eight benchmark suites
// in the official file formats of MME, MMBench, SEED-Bench, ScienceQA-IMG,
// POPE, TextVQA, GQA and VizWiz.
//
// Every question and answer is derived from a scene graph, so every answer is
// known exactly. Generation is a pure function of Config: the same seed and
// profile give byte-identical output. Each random step draws from its own
// PCG stream derived from (seed, purpose, index); no global randomness and no
// map-iteration order reaches the output.
package world

import (
	"fmt"
	"math"

	"github.com/tive-dev/tive/harness/world/assets"
)

// Config selects a world. Every zero field except Profile means its default
// (see WithDefaults). The JSON form of cfg.WithDefaults() (AssetsDir left
// out: it is a location, not a parameter) is what a stage key should hash.
type Config struct {
	Seed    uint64 `json:"seed"`    // world seed
	Profile string `json:"profile"` // "tiny" (tests, ~700 records), "small" (~2.2K), "quick" (~6.6K), "full" (~66K)
	// Assets is the art pack: "emoji" (default; needs scripts/fetch-assets.sh)
	// or "shapes" (procedural, no download).
	Assets string `json:"assets"`
	// AssetsDir holds the fetched tarballs; "" means assets.DefaultCacheDir().
	AssetsDir string `json:"-"`
	// ImageSize is the side of every scene image in pixels (default 64, 48..128).
	ImageSize int `json:"image_size"`
	// Redundancy plants duplicates with a hidden ground-truth dup_group field.
	// The default plants none: only the redundancy that templates create.
	Redundancy Redundancy `json:"redundancy"`
}

// Redundancy is the fraction of each image task's records that are planted
// copies of another record of the same task: Exact copies share image and
// conversation; Near copies show the same scene re-rendered with the objects
// nudged by a pixel or two, and the same questions.
type Redundancy struct {
	Exact float64 `json:"exact"`
	Near  float64 `json:"near"`
}

// profile is the size of a world.
type profile struct {
	divisor  int // mixture size = LLaVA-665K counts / divisor
	pretrain int // captions
	bench    int // items per benchmark suite (roughly)
}

var profiles = map[string]profile{
	"tiny":  {divisor: 1000, pretrain: 200, bench: 40},
	"small": {divisor: 300, pretrain: 700, bench: 150},
	"quick": {divisor: 100, pretrain: 2000, bench: 300},
	"full":  {divisor: 10, pretrain: 20000, bench: 3000},
}

// Profiles lists the valid profile names.
func Profiles() []string { return []string{"tiny", "small", "quick", "full"} }

// WithDefaults fills in the defaults: Assets "emoji", ImageSize 64.
func (c Config) WithDefaults() Config {
	if c.Assets == "" {
		c.Assets = "emoji"
	}
	if c.ImageSize == 0 {
		c.ImageSize = 64
	}
	return c
}

// Validate reports the first problem with cfg: an unknown profile or asset
// pack, an image size outside 48..128, or redundancy fractions outside
// [0, 0.5] or summing past 0.5. It does not look at the asset cache.
func Validate(cfg Config) error {
	cfg = cfg.WithDefaults()
	if _, ok := profiles[cfg.Profile]; !ok {
		return fmt.Errorf("world: unknown profile %q (valid: tiny, small, quick, full)", cfg.Profile)
	}
	if cfg.Assets != "emoji" && cfg.Assets != "shapes" {
		return fmt.Errorf("world: unknown assets %q (valid: emoji, shapes)", cfg.Assets)
	}
	if cfg.ImageSize < 48 || cfg.ImageSize > 128 {
		return fmt.Errorf("world: image size %d is impossible (valid: 48..128 pixels)", cfg.ImageSize)
	}
	r := cfg.Redundancy
	for _, f := range []struct {
		name string
		v    float64
	}{{"exact", r.Exact}, {"near", r.Near}} {
		if math.IsNaN(f.v) || f.v < 0 || f.v > 0.5 {
			return fmt.Errorf("world: redundancy.%s %v is impossible (valid: 0..0.5)", f.name, f.v)
		}
	}
	if r.Exact+r.Near > 0.5 {
		return fmt.Errorf("world: redundancy exact+near = %v is impossible (valid: at most 0.5)", r.Exact+r.Near)
	}
	return nil
}

// openPack opens the configured asset pack.
func openPack(cfg Config) (assets.Pack, error) { return assets.Open(cfg.Assets, cfg.AssetsDir) }
