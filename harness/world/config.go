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
	"strings"

	"github.com/tive-dev/tive/harness/field"
	"github.com/tive-dev/tive/harness/world/assets"
)

// Config selects a world. Every zero field except Profile means its default
// (see WithDefaults). The JSON form of cfg.WithDefaults() (AssetsDir left
// out: it is a location, not a parameter) is what a stage key should hash.
// A spec's world section is a Config (its yaml keys), checked by Validate.
type Config struct {
	Seed    uint64 `yaml:"seed" json:"seed"`       // world seed
	Profile string `yaml:"profile" json:"profile"` // "tiny" (tests, ~700 records), "small" (~2.2K), "quick" (~6.6K), "medium" (~9.9K), "full" (~66K)
	// Assets is the art pack: "emoji" (default; needs scripts/fetch-assets.sh)
	// or "shapes" (procedural, no download).
	Assets string `yaml:"assets" json:"assets"`
	// AssetsDir holds the fetched tarballs; "" means assets.DefaultCacheDir().
	AssetsDir string `yaml:"-" json:"-"`
	// ImageSize is the side of every scene image in pixels (default 64, 48..128).
	ImageSize int `yaml:"image_size" json:"image_size"`
	// Redundancy plants duplicates with a hidden ground-truth dup_group field.
	// The default plants none: only the redundancy that templates create.
	Redundancy Redundancy `yaml:",inline" json:"redundancy"`
}

// Redundancy is the fraction of each image task's records that are planted
// copies of another record of the same task: Exact copies share image and
// conversation; Near copies show the same scene re-rendered with the objects
// nudged by a pixel or two, and the same questions.
type Redundancy struct {
	Exact float64 `yaml:"exact_duplicates" json:"exact"`
	Near  float64 `yaml:"near_duplicates" json:"near"`
}

// profile is the size of a world.
type profile struct {
	divisor  int    // mixture size = LLaVA-665K counts / divisor
	pretrain int    // captions
	bench    int    // items per benchmark suite (roughly)
	parts    string // the profile whose pretrained parts it shares; "" its own (Config.Parts)
}

var profiles = map[string]profile{
	"tiny":   {divisor: 1000, pretrain: 200, bench: 40},
	"small":  {divisor: 300, pretrain: 700, bench: 150},
	"quick":  {divisor: 100, pretrain: 2000, bench: 300},
	"medium": {divisor: 67, pretrain: 3000, bench: 300, parts: "quick"},
	"full":   {divisor: 10, pretrain: 20000, bench: 3000},
}

// Profiles lists the valid profile names.
func Profiles() []string { return []string{"tiny", "small", "quick", "medium", "full"} }

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

// Parts is the world that the pretrained parts of c's world (the vision
// tower, the language model with its vocabulary, the aligned projector)
// train on: c without planted copies, at the profile whose parts c's
// profile shares. The parts train on the world's streams, which neither
// planted copies nor the size of the pool change, so "medium", a larger
// pool of the quick world, shares the quick profile's parts, as LLaVA's
// instruction mixtures of any size start from the same CLIP and Vicuna. (Of
// the medium mixture's 1,593 distinct words, 13, 33 of its 1.1M tokens, are
// not in the quick mixture and captions; the language corpus adds more.)
func (c Config) Parts() Config {
	c = c.WithDefaults()
	c.Redundancy = Redundancy{}
	if p := profiles[c.Profile].parts; p != "" {
		c.Profile = p
	}
	return c
}

// Validate returns every problem with c (its defaults filled in), one
// field.Error each, named by its spec key: an unknown profile or asset pack,
// an image size outside 48..128, or redundancy fractions outside [0, 0.5]
// or summing past 0.5. It does not look at the asset cache.
func (c Config) Validate() error {
	c = c.WithDefaults()
	var l field.List
	if _, ok := profiles[c.Profile]; !ok {
		l.Add("profile", "unknown profile %q (valid: %s)", c.Profile, strings.Join(Profiles(), ", "))
	}
	if c.Assets != "emoji" && c.Assets != "shapes" {
		l.Add("assets", "unknown assets %q (valid: emoji, shapes)", c.Assets)
	}
	if c.ImageSize < 48 || c.ImageSize > 128 {
		l.Add("image_size", "image size %d is impossible (valid: 48..128 pixels)", c.ImageSize)
	}
	r := c.Redundancy
	for _, f := range []struct {
		key string
		v   float64
	}{{"exact_duplicates", r.Exact}, {"near_duplicates", r.Near}} {
		if math.IsNaN(f.v) || f.v < 0 || f.v > 0.5 {
			l.Add(f.key, "%v is impossible (valid: 0..0.5)", f.v)
		}
	}
	if r.Exact+r.Near > 0.5 {
		l.Add("near_duplicates", "exact+near = %v is impossible (valid: at most 0.5)", r.Exact+r.Near)
	}
	if err := l.Err(); err != nil {
		return fmt.Errorf("world: %w", err)
	}
	return nil
}

// openPack opens the configured asset pack.
func openPack(cfg Config) (assets.Pack, error) { return assets.Open(cfg.Assets, cfg.AssetsDir) }
