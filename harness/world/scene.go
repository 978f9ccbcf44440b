package world

import (
	"fmt"
	"hash/fnv"
	"image"
	"image/color"
	"math/rand/v2"
	"strings"

	"github.com/tive-dev/tive/harness/world/assets"
)

// A place is a scene background.
type place struct {
	name        string // "beach"
	phrase      string // "on a beach"
	indoor      bool
	top, bottom color.NRGBA
}

var places = []place{
	{"beach", "on a beach", false, color.NRGBA{135, 206, 235, 255}, color.NRGBA{238, 214, 175, 255}},
	{"forest", "in a forest", false, color.NRGBA{34, 100, 34, 255}, color.NRGBA{70, 140, 60, 255}},
	{"snowfield", "on a snowfield", false, color.NRGBA{190, 205, 225, 255}, color.NRGBA{250, 250, 250, 255}},
	{"desert", "in a desert", false, color.NRGBA{250, 205, 130, 255}, color.NRGBA{215, 165, 90, 255}},
	{"ocean", "by the ocean", false, color.NRGBA{130, 185, 235, 255}, color.NRGBA{30, 80, 160, 255}},
	{"night", "at night", false, color.NRGBA{15, 20, 55, 255}, color.NRGBA{35, 35, 65, 255}},
	{"meadow", "in a meadow", false, color.NRGBA{160, 205, 240, 255}, color.NRGBA{120, 195, 90, 255}},
	{"street", "on a city street", false, color.NRGBA{175, 175, 185, 255}, color.NRGBA{95, 95, 100, 255}},
	{"kitchen", "in a kitchen", true, color.NRGBA{245, 235, 210, 255}, color.NRGBA{170, 120, 80, 255}},
	{"bedroom", "in a bedroom", true, color.NRGBA{225, 210, 235, 255}, color.NRGBA{140, 100, 70, 255}},
}

// An Object is one sprite placed in a scene.
type Object struct {
	Concept int
	Style   int
	Size    int             // sprite side in pixels
	X, Y    int             // sprite top-left; may lie outside the image when cut off
	Box     image.Rectangle // exact visible box: opaque pixels, clipped to the image
	Colour  string          // dominant colour word
	Hidden  bool            // mostly covered by the occluder
}

// A Text is a word or line drawn in a scene.
type Text struct {
	Words     string
	X, Y      int // baseline origin
	Px        float64
	Mono      bool
	Ink, Back color.NRGBA
	Box       image.Rectangle // plate behind the text, inside the image
}

// A Scene is the scene graph of one image; the image is a function of it.
type Scene struct {
	Size     int
	Place    int
	Horizon  int
	Noise    uint64
	Panel    *color.NRGBA // a flat full-frame colour (book covers, posters) instead of a place
	Objects  []Object
	Texts    []Text
	Degrade  string // "", "blur", "occlude" or "crop"
	Occluder image.Rectangle
}

// key identifies a scene up to its background noise.
func (s *Scene) key() uint64 {
	h := fnv.New64a()
	fmt.Fprintf(h, "%d|%d|%d|%v|%s|%v", s.Size, s.Place, s.Horizon, s.Panel, s.Degrade, s.Occluder)
	for _, o := range s.Objects {
		fmt.Fprintf(h, "|o%d,%d,%d,%d,%d", o.Concept, o.Style, o.Size, o.X, o.Y)
	}
	for _, t := range s.Texts {
		fmt.Fprintf(h, "|t%s,%d,%d,%v", t.Words, t.X, t.Y, t.Px)
	}
	return h.Sum64()
}

// world holds what every generator shares.
type world struct {
	cfg      Config
	pack     assets.Pack
	concepts []assets.Concept
	size     int
	train    []int // styles used for training scenes
	heldOut  int   // held-out style
	byGroup  map[string][]int
	kinds    []string // distinct kinds, sorted by first appearance
	byKind   map[string][]int
	landmark []int // place-like concepts (MME landmark)
	fonts    *fonts
}

func newWorld(cfg Config, pack assets.Pack) *world {
	w := &world{cfg: cfg, pack: pack, concepts: pack.Concepts(), size: cfg.ImageSize,
		byGroup: map[string][]int{}, byKind: map[string][]int{}, fonts: newFonts()}
	n := len(pack.Styles())
	for s := 0; s < n-1; s++ {
		w.train = append(w.train, s)
	}
	w.heldOut = n - 1
	for i, c := range w.concepts {
		w.byGroup[c.Group] = append(w.byGroup[c.Group], i)
		if _, ok := w.byKind[c.Kind]; !ok {
			w.kinds = append(w.kinds, c.Kind)
		}
		w.byKind[c.Kind] = append(w.byKind[c.Kind], i)
		if c.Group == "place" {
			w.landmark = append(w.landmark, i)
		}
	}
	if len(w.landmark) < 4 {
		w.landmark = nil
		for i := range w.concepts {
			w.landmark = append(w.landmark, i)
		}
	}
	return w
}

// sceneOpts shapes a sampled scene.
type sceneOpts struct {
	min, max int   // object count range
	styles   []int // styles to draw from
	repeat   bool  // allow the same concept more than once (counting)
	concepts []int // if set, objects are exactly these concepts, in order
	texts    []string
	mono     bool
	degrade  string
	panel    bool
}

// sample draws a scene. Objects do not overlap much and lie inside the image
// unless degrade is "crop", which pushes two thirds of the first object out
// of frame; "occlude" covers the first object with a gray block; "blur"
// blurs the whole image (see render).
func (w *world) sample(r *rand.Rand, o sceneOpts) Scene {
	S := w.size
	s := Scene{Size: S, Place: r.IntN(len(places)), Horizon: S*3/10 + r.IntN(S*3/10+1), Noise: r.Uint64(), Degrade: o.degrade}
	if o.panel {
		c := color.NRGBA{uint8(40 + r.IntN(180)), uint8(40 + r.IntN(180)), uint8(40 + r.IntN(180)), 255}
		s.Panel = &c
	}
	var boxes []image.Rectangle
	// Texts first: they get plates where they fit.
	for _, words := range o.texts {
		t := w.fonts.layout(r, words, S, o.mono, boxes)
		s.Texts = append(s.Texts, t)
		boxes = append(boxes, t.Box)
	}
	n := o.min
	if o.max > o.min {
		n += r.IntN(o.max - o.min + 1)
	}
	if o.concepts != nil {
		n = len(o.concepts)
	}
	used := map[int]bool{}
	for i := 0; i < n; i++ {
		var c int
		switch {
		case o.concepts != nil:
			c = o.concepts[i]
		case o.repeat && i > 0 && r.IntN(3) == 0:
			c = s.Objects[r.IntN(len(s.Objects))].Concept
		default:
			for tries := 0; ; tries++ {
				c = r.IntN(len(w.concepts))
				if !used[c] || tries > 20 {
					break
				}
			}
		}
		used[c] = true
		st := pick(r, o.styles)
		cut := o.degrade == "crop" && i == 0
		obj, ok := w.place(r, c, st, boxes, cut)
		if !ok && cut {
			obj, ok = w.place(r, c, st, boxes, false)
		}
		if !ok {
			if o.concepts != nil {
				// Required objects always go in: shrink until one fits.
				obj, _ = w.placeSmall(r, c, st)
			} else {
				continue
			}
		}
		s.Objects = append(s.Objects, obj)
		boxes = append(boxes, obj.Box)
	}
	if o.degrade == "occlude" && len(s.Objects) > 0 {
		b := s.Objects[0].Box
		pad := 2
		s.Occluder = image.Rect(b.Min.X-pad, b.Min.Y-pad, b.Max.X+pad, b.Max.Y+pad).Intersect(image.Rect(0, 0, S, S))
		s.Objects[0].Hidden = true
	}
	return s
}

// place puts concept c somewhere free, or reports false after 40 tries.
func (w *world) place(r *rand.Rand, c, st int, taken []image.Rectangle, cut bool) (Object, bool) {
	S := w.size
	for try := 0; try < 40; try++ {
		size := S/5 + r.IntN(S/2-S/5+1)
		var x, y int
		if cut { // two thirds of the sprite out of frame
			size = S/3 + r.IntN(S/6+1)
			x, y = -size*2/3, r.IntN(S-size+1)
			if r.IntN(2) == 0 {
				x = S - size/3
			}
		} else {
			x, y = r.IntN(S-size+1), r.IntN(S-size+1)
		}
		o := w.object(c, st, size, x, y)
		if o.Box.Dx() < 3 || o.Box.Dy() < 3 {
			continue
		}
		ok := true
		for _, b := range taken {
			in := o.Box.Intersect(b)
			if !in.Empty() && in.Dx()*in.Dy()*10 > min(area(o.Box), area(b)) {
				ok = false
				break
			}
		}
		if ok {
			return o, true
		}
	}
	return Object{}, false
}

func (w *world) placeSmall(r *rand.Rand, c, st int) (Object, bool) {
	size := w.size / 6
	return w.object(c, st, size, r.IntN(w.size-size+1), r.IntN(w.size-size+1)), true
}

func area(b image.Rectangle) int { return b.Dx() * b.Dy() }

// object builds an Object with its exact box.
func (w *world) object(c, st, size, x, y int) Object {
	sp, err := w.pack.Sprite(c, st, size)
	if err != nil {
		panic(err) // packs only fail at Open
	}
	col, _ := w.pack.Colour(c, st)
	tb := assets.TightBounds(sp).Add(image.Pt(x, y)).Intersect(image.Rect(0, 0, w.size, w.size))
	return Object{Concept: c, Style: st, Size: size, X: x, Y: y, Box: tb, Colour: col}
}

// Helpers for describing scenes.

func (w *world) name(o Object) string { return w.concepts[o.Concept].Name }

// visible lists the objects not hidden by the occluder.
func (s *Scene) visible() []Object {
	var out []Object
	for _, o := range s.Objects {
		if !o.Hidden {
			out = append(out, o)
		}
	}
	return out
}

// cutOff reports whether o's sprite extends past the image border.
func (s *Scene) cutOff(o Object) bool {
	return o.X < 0 || o.Y < 0 || o.X+o.Size > s.Size || o.Y+o.Size > s.Size
}

// count is the number of visible objects of concept c.
func (s *Scene) count(c int) int {
	n := 0
	for _, o := range s.visible() {
		if o.Concept == c {
			n++
		}
	}
	return n
}

// unique lists visible objects whose concept occurs once.
func (s *Scene) unique() []Object {
	var out []Object
	for _, o := range s.visible() {
		if s.count(o.Concept) == 1 {
			out = append(out, o)
		}
	}
	return out
}

func (s *Scene) has(c int) bool { return s.count(c) > 0 }

// horiz is "left", "right" or "middle" by the box centre.
func horiz(b image.Rectangle, size int) string {
	cx := (b.Min.X + b.Max.X) / 2
	switch {
	case cx*3 < size:
		return "left"
	case cx*3 >= 2*size:
		return "right"
	}
	return "middle"
}

func vert(b image.Rectangle, size int) string {
	cy := (b.Min.Y + b.Max.Y) / 2
	switch {
	case cy*3 < size:
		return "top"
	case cy*3 >= 2*size:
		return "bottom"
	}
	return "middle"
}

// where describes a box position: "in the top left corner", "on the left side", "in the center".
func where(b image.Rectangle, size int) string {
	h, v := horiz(b, size), vert(b, size)
	switch {
	case h == "middle" && v == "middle":
		return "in the center"
	case h == "middle":
		return "at the " + v
	case v == "middle":
		return "on the " + h + " side"
	}
	return "in the " + v + " " + h + " corner"
}

// Article puts "a" or "an" before a name, as every text of the world does.
func Article(name string) string {
	if strings.ContainsRune("aeiou", rune(name[0])) {
		return "an " + name
	}
	return "a " + name
}

func plural(name string) string {
	if head, tail, ok := strings.Cut(name, " of "); ok { // "ear of corn" -> "ears of corn"
		return plural(head) + " of " + tail
	}
	switch {
	case strings.HasSuffix(name, "ss"), strings.HasSuffix(name, "us"), strings.HasSuffix(name, "sh"),
		strings.HasSuffix(name, "ch"), strings.HasSuffix(name, "x"):
		return name + "es"
	case strings.HasSuffix(name, "s"): // already plural ("chains", "glasses")
		return name
	case strings.HasSuffix(name, "y") && len(name) > 1 && !strings.ContainsRune("aeiou", rune(name[len(name)-2])):
		return name[:len(name)-1] + "ies"
	}
	return name + "s"
}

func capitalise(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// list joins names as "a, b and c".
func list(xs []string) string {
	switch len(xs) {
	case 0:
		return ""
	case 1:
		return xs[0]
	}
	return strings.Join(xs[:len(xs)-1], ", ") + " and " + xs[len(xs)-1]
}

// leftOf reports whether a's centre is left of b's.
func leftOf(a, b image.Rectangle) bool { return a.Min.X+a.Max.X < b.Min.X+b.Max.X }

// otherConcepts draws k distinct concepts not in excl.
func (w *world) otherConcepts(r *rand.Rand, k int, excl func(int) bool) []int {
	var out []int
	seen := map[int]bool{}
	for tries := 0; len(out) < k && tries < 1000; tries++ {
		c := r.IntN(len(w.concepts))
		if seen[c] || excl(c) {
			continue
		}
		seen[c] = true
		out = append(out, c)
	}
	return out
}
