package world

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"sync"

	"github.com/tive-dev/tive/harness/atomic"
	"github.com/tive-dev/tive/harness/world/assets"
)

// The files at the top of a world's folder (Generate); other packages name
// them by these.
const (
	MixtureFile  = "mixture.json"  // the instruction mixture
	PretrainFile = "pretrain.json" // the captions of the pretrain stage
	ManifestFile = "world.json"    // the Manifest, written last
)

// Manifest is DIR/world.json: what was generated, from what.
type Manifest struct {
	FormatVersion int              `json:"format_version"`
	Seed          uint64           `json:"seed"`
	Profile       string           `json:"profile"`
	Assets        string           `json:"assets"`
	Styles        []string         `json:"styles"`
	HeldOutStyle  string           `json:"held_out_style"`
	Versions      []assets.Version `json:"asset_versions"`
	Concepts      int              `json:"concepts"`
	ImageSize     int              `json:"image_size"`
	Redundancy    Redundancy       `json:"redundancy"`
	Tasks         []Count          `json:"tasks"`      // records per dataset label, in block order
	Benchmarks    []Count          `json:"benchmarks"` // questions per suite
	Pretrain      int              `json:"pretrain"`
	Images        int              `json:"images"` // files under DIR/images
	Duplicates    int              `json:"planted_duplicates"`
}

// ReadManifest reads the Manifest of the world in dir.
func ReadManifest(dir string) (*Manifest, error) {
	var m Manifest
	if err := readJSON(filepath.Join(dir, ManifestFile), &m); err != nil {
		return nil, err
	}
	return &m, nil
}

// A Count is a named number.
type Count struct {
	Name string `json:"name"`
	N    int    `json:"n"`
}

// Generate writes the world of cfg into outDir (created if needed):
//
//	DIR/mixture.json            training records (LLaVA JSON list with dataset labels)
//	DIR/pretrain.json           caption records for the base model
//	DIR/images/...              training and pretraining images (PNG)
//	DIR/benchmarks/<suite>/...  the eight suites in their official formats
//	DIR/world.json              the Manifest
//
// Every file is written atomically; world.json is written last, so its
// presence marks a complete world. outDir should be new or empty: files of
// an earlier world there are overwritten but not removed. progress, if not
// nil, is called after each file with the number written so far and the
// total; calls are serialised and done increases by one each time. Generate
// stops early with
// ctx.Err() when ctx is cancelled. Errors: an invalid cfg (see Validate), a
// missing or tampered asset cache (*assets.MissingError), or an I/O error.
func Generate(ctx context.Context, cfg Config, outDir string, progress func(done, total int)) error {
	if err := cfg.Validate(); err != nil {
		return err
	}
	cfg = cfg.WithDefaults()
	pack, err := openPack(cfg)
	if err != nil {
		return err
	}
	prof := profiles[cfg.Profile]
	g := &gen{world: newWorld(cfg, pack), trainKeys: map[uint64]bool{}}
	mix := g.mixture(prof.divisor)
	pre := g.pretrain(prof.pretrain)
	g.keepReferenced(mix, pre)
	nTrain := len(g.jobs)
	files, benchCounts := g.benchmarks(prof.bench)
	total := len(g.jobs) + len(files) + 3
	var done int
	var mu sync.Mutex
	tick := func() {
		mu.Lock()
		defer mu.Unlock()
		done++
		if progress != nil {
			progress(done, total)
		}
	}
	if err := g.writeImages(ctx, outDir, tick); err != nil {
		return err
	}
	for _, f := range files {
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := writeFile(outDir, f.path, f.data); err != nil {
			return err
		}
		tick()
	}
	for _, f := range []struct {
		name string
		v    any
	}{{MixtureFile, mix}, {PretrainFile, pre}} {
		b, err := marshal(f.v, "")
		if err != nil {
			return err
		}
		if err := writeFile(outDir, f.name, b); err != nil {
			return err
		}
		tick()
	}
	m := Manifest{FormatVersion: 1, Seed: cfg.Seed, Profile: cfg.Profile, Assets: cfg.Assets, Styles: pack.Styles(),
		HeldOutStyle: pack.Styles()[g.heldOut], Versions: pack.Versions(), Concepts: len(g.concepts), ImageSize: cfg.ImageSize,
		Redundancy: cfg.Redundancy, Benchmarks: benchCounts, Pretrain: len(pre), Images: nTrain}
	if m.Versions == nil {
		m.Versions = []assets.Version{}
	}
	for _, t := range tasks {
		n := 0
		for _, r := range mix {
			if r.Dataset == t.name {
				n++
			}
		}
		m.Tasks = append(m.Tasks, Count{t.name, n})
	}
	for _, r := range mix {
		if r.DupGroup != "" {
			m.Duplicates++
		}
	}
	b, err := marshal(m, "  ")
	if err != nil {
		return err
	}
	if err := writeFile(outDir, ManifestFile, append(b, '\n')); err != nil {
		return err
	}
	tick()
	return nil
}

// keepReferenced drops image jobs that no record uses any more (records
// replaced by planted copies) and orders jobs by path.
func (g *gen) keepReferenced(sets ...[]Record) {
	used := map[string]bool{}
	for _, recs := range sets {
		for _, r := range recs {
			if r.Image != "" {
				used["images/"+r.Image] = true
			}
		}
	}
	var keep []job
	seen := map[string]bool{}
	for _, j := range g.jobs {
		if used[j.path] && !seen[j.path] {
			seen[j.path] = true
			keep = append(keep, j)
		}
	}
	sort.SliceStable(keep, func(a, b int) bool { return keep[a].path < keep[b].path })
	g.jobs = keep
}

// writeImages renders and writes every image job on all cores; there are
// more workers than cores because each file write waits for two fsyncs.
func (g *gen) writeImages(ctx context.Context, outDir string, tick func()) error {
	dirs := map[string]bool{}
	for _, j := range g.jobs {
		dirs[filepath.Dir(filepath.Join(outDir, j.path))] = true
	}
	names := make([]string, 0, len(dirs))
	for d := range dirs {
		names = append(names, d)
	}
	sort.Strings(names)
	for _, d := range names {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return err
		}
	}
	work := make(chan job)
	errs := make(chan error, 1)
	var wg sync.WaitGroup
	for range 4 * runtime.GOMAXPROCS(0) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range work {
				img := g.render(&j.scene)
				if err := atomic.WriteFile(filepath.Join(outDir, j.path), encodePNG(img), 0o644); err != nil {
					select {
					case errs <- err:
					default:
					}
					continue
				}
				tick()
			}
		}()
	}
	var err error
feed:
	for _, j := range g.jobs {
		select {
		case <-ctx.Done():
			err = ctx.Err()
			break feed
		case err = <-errs:
			break feed
		case work <- j:
		}
	}
	close(work)
	wg.Wait()
	if err == nil {
		select {
		case err = <-errs:
		default:
		}
	}
	return err
}

// writeFile atomically writes data to outDir/rel, creating folders.
func writeFile(outDir, rel string, data []byte) error {
	p := filepath.Join(outDir, filepath.FromSlash(rel))
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return err
	}
	if err := atomic.WriteFile(p, data, 0o644); err != nil {
		return fmt.Errorf("world: %w", err)
	}
	return nil
}
