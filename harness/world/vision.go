package world

import (
	"errors"
	"fmt"
	"image"
	"runtime"
	"slices"
	"sync"

	"github.com/tive-dev/tive/harness/world/assets"
)

// The vision stream: freshly generated, labelled scenes that pretrain the
// built-in model's vision tower (CLIP's role in LLaVA's recipe). It draws
// its own scenes from its own random streams, so none of them is an image
// of the mixture, the captions or a benchmark suite, and it draws them in
// every art style of the pack, the held-out one included: CLIP has seen
// every style.

// VisionScene is one scene of the vision stream: its image, the art style
// of all its objects, its place, and each visible object's label.
type VisionScene struct {
	Image   *image.NRGBA
	Style   string
	Place   string // the place's name, as "What place is this?" answers it
	Objects []VisionObject
}

// VisionObject is what the generator knows about one visible object.
type VisionObject struct {
	Concept int             // index into the pack's concepts (VisionLabels)
	Colour  int             // index into assets.ColourNames
	Box     image.Rectangle // exact visible box in pixels
}

// VisionLabels names the classes of the vision stream's labels: the pack's
// concepts and the colour words, in index order.
func VisionLabels(cfg Config) (concepts, colours []string, err error) {
	if err := cfg.Validate(); err != nil {
		return nil, nil, err
	}
	pack, err := openPack(cfg.WithDefaults())
	if err != nil {
		return nil, nil, err
	}
	for _, c := range pack.Concepts() {
		concepts = append(concepts, c.Name)
	}
	return concepts, assets.ColourNames, nil
}

// VisionScenes returns scenes first..first+n-1 of the vision stream of the
// world cfg for purpose ("vision" trains the tower; another purpose, such as
// "vision-eval", draws scenes the training stream does not have): scene i
// has 1–4 objects of distinct concepts in style i mod len(styles), sometimes
// a sign, on a random place. Rendering is parallel; the output is a pure
// function of (cfg, purpose, first, n).
func VisionScenes(cfg Config, purpose string, first, n int) ([]VisionScene, error) {
	scenes, _, err := visionScenes(cfg, purpose, first, n, true)
	return scenes, err
}

// visionScenes is VisionScenes, with the images left nil unless render, and
// the world it drew them in.
func visionScenes(cfg Config, purpose string, first, n int, render bool) ([]VisionScene, *world, error) {
	if err := cfg.Validate(); err != nil {
		return nil, nil, err
	}
	cfg = cfg.WithDefaults()
	pack, err := openPack(cfg)
	if err != nil {
		return nil, nil, err
	}
	w := newWorld(cfg, pack)
	styles := pack.Styles()
	out := make([]VisionScene, n)
	err = parallel(n, func(k int) error {
		i := first + k
		r := stream(cfg.Seed, "vision/"+purpose, i)
		st := i % len(styles)
		var texts []string
		if r.IntN(6) == 0 {
			texts = []string{pick(r, signWords)}
		}
		s := w.sample(r, sceneOpts{min: 1, max: 4, styles: []int{st}, texts: texts})
		vs := VisionScene{Style: styles[st], Place: places[s.Place].name}
		if render {
			vs.Image = w.render(&s)
		}
		for _, o := range s.visible() {
			c := slices.Index(assets.ColourNames, o.Colour)
			if c < 0 {
				return fmt.Errorf("world: colour %q of %s is not a colour name", o.Colour, w.name(o))
			}
			vs.Objects = append(vs.Objects, VisionObject{Concept: o.Concept, Colour: c, Box: o.Box})
		}
		out[k] = vs
		return nil
	})
	return out, w, err
}

// parallel runs f(0..n-1) on GOMAXPROCS goroutines and returns the first
// errors, joined.
func parallel(n int, f func(i int) error) error {
	errs := make([]error, n)
	var wg sync.WaitGroup
	w := runtime.GOMAXPROCS(0)
	for g := range w {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := g; i < n; i += w {
				errs[i] = f(i)
			}
		}()
	}
	wg.Wait()
	return errors.Join(slices.DeleteFunc(errs, func(e error) bool { return e == nil })...)
}
