package assets

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"image"
	"image/png"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"

	"github.com/srwiley/oksvg"
	"github.com/srwiley/rasterx"
	"github.com/tive-dev/tive/harness/atomic"
)

// emojiStyles are the art styles of the emoji pack, one per iconify tarball,
// in lock order; the last (emojione) is the held-out style.
var emojiStyles = []string{"noto", "fluent-emoji-flat", "twemoji", "emojione"}

// maxConcepts caps the emoji vocabulary ("a few hundred concepts").
const maxConcepts = 320

// baseSize is the side of the rendered master sprite; scene sprites are
// scaled down from it.
const baseSize = 64

// Emoji is the pack of real emoji artwork.
type Emoji struct {
	concepts []Concept
	versions []Version
	sprites  *spriteCache
	colours  [][]string // [concept][style]
}

type iconSet struct {
	Icons map[string]struct {
		Body      string   `json:"body"`
		Width     *float64 `json:"width"`
		Height    *float64 `json:"height"`
		Left, Top float64
	} `json:"icons"`
	Aliases map[string]struct {
		Parent string `json:"parent"`
		HFlip  bool   `json:"hFlip"`
		VFlip  bool   `json:"vFlip"`
		Rotate int    `json:"rotate"`
	} `json:"aliases"`
	Width, Height float64
}

// svg returns the icon called name as a standalone SVG document, or false if
// the set has no such icon (aliases with transforms are not followed).
func (s *iconSet) svg(name string) (string, bool) {
	ic, ok := s.Icons[name]
	if !ok {
		a, ok := s.Aliases[name]
		if !ok || a.HFlip || a.VFlip || a.Rotate != 0 {
			return "", false
		}
		if ic, ok = s.Icons[a.Parent]; !ok {
			return "", false
		}
	}
	w, h := s.Width, s.Height
	if w == 0 {
		w = 16
	}
	if h == 0 {
		h = 16
	}
	if ic.Width != nil {
		w = *ic.Width
	}
	if ic.Height != nil {
		h = *ic.Height
	}
	return fmt.Sprintf(`<svg xmlns="http://www.w3.org/2000/svg" viewBox="%g %g %g %g" width="%g" height="%g">%s</svg>`,
		ic.Left, ic.Top, w, h, w, h, ic.Body), true
}

// tarFiles returns the named members of a gzipped npm tarball.
func tarFiles(tgz []byte, names ...string) (map[string][]byte, error) {
	zr, err := gzip.NewReader(bytes.NewReader(tgz))
	if err != nil {
		return nil, err
	}
	want := map[string]bool{}
	for _, n := range names {
		want[n] = true
	}
	out := map[string][]byte{}
	tr := tar.NewReader(zr)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
		if want[h.Name] {
			b, err := io.ReadAll(tr)
			if err != nil {
				return nil, err
			}
			out[h.Name] = b
		}
	}
	for _, n := range names {
		if _, ok := out[n]; !ok {
			return nil, fmt.Errorf("tarball has no %s", n)
		}
	}
	return out, nil
}

var labelRE = regexp.MustCompile(`^[a-z]+( [a-z]+){0,2}$`)

// bannedWords would be changed by the VQA answer normalisers (articles,
// number words), so concept names containing them are left out.
var bannedWords = map[string]bool{"a": true, "an": true, "the": true, "no": true, "yes": true, "none": true, "zero": true,
	"one": true, "two": true, "three": true, "four": true, "five": true, "six": true, "seven": true, "eight": true, "nine": true, "ten": true}

// skippedSubgroups hold emoji that are not objects in a scene (clock faces, maps).
var skippedSubgroups = map[string]bool{"time": true, "place-map": true, "hotel": true}

// renamed gives emoji whose CLDR names are adjectives or activities the
// name of the thing they show.
var renamed = map[string]string{
	"locked": "padlock", "unlocked": "open padlock", "foggy": "foggy city", "cooking": "frying pan",
	"camping": "campsite", "bowling": "bowling ball", "wedding": "wedding chapel", "high voltage": "lightning bolt",
	"e mail": "email", "seat": "airplane seat", "wind face": "wind", "love hotel": "hotel",
}

// OpenEmoji loads the emoji pack from the verified tarballs in cacheDir and
// renders (or loads from cacheDir/sprites) every sprite of its vocabulary.
// A missing or tampered tarball gives a *MissingError.
func OpenEmoji(cacheDir string) (*Emoji, error) {
	lock := Lock()
	if len(lock) != len(emojiStyles)+1 {
		panic("assets: assets.lock does not list the four icon sets and emojibase-data")
	}
	e := &Emoji{}
	var sets []*iconSet
	var base []byte
	for i, le := range lock {
		b, err := readVerified(cacheDir, le)
		if err != nil {
			return nil, err
		}
		e.versions = append(e.versions, Version{Package: le.Package, Version: le.Version, SHA256: le.SHA256})
		if i == len(emojiStyles) {
			base = b
			continue
		}
		fs, err := tarFiles(b, "package/icons.json")
		if err != nil {
			return nil, fmt.Errorf("emoji assets: %s: %w", le.File, err)
		}
		s := &iconSet{}
		if err := json.Unmarshal(fs["package/icons.json"], s); err != nil {
			return nil, fmt.Errorf("emoji assets: %s icons.json: %w", le.File, err)
		}
		sets = append(sets, s)
	}
	cands, err := emojibaseConcepts(base)
	if err != nil {
		return nil, err
	}
	// Keep the concepts that every style draws, then thin them evenly to maxConcepts.
	var avail []Concept
	var svgs [][]string
	for _, c := range cands {
		name := strings.ReplaceAll(c.Name, " ", "-")
		row := make([]string, len(sets))
		ok := true
		for s, set := range sets {
			row[s], ok = set.svg(name)
			if !ok {
				break
			}
		}
		if ok {
			avail = append(avail, c)
			svgs = append(svgs, row)
		}
	}
	keep := func(i int) bool { return true }
	if len(avail) > maxConcepts {
		keep = func(i int) bool { return i*maxConcepts/len(avail) != (i+1)*maxConcepts/len(avail) }
	}
	dirs := make([]string, len(sets))
	for s := range sets {
		dirs[s] = filepath.Join(cacheDir, "sprites", fmt.Sprintf("%s-%s-%d", emojiStyles[s], lock[s].SHA256[:12], baseSize))
		if err := os.MkdirAll(dirs[s], 0o755); err != nil {
			return nil, err
		}
	}
	var masters [][]*image.NRGBA
	for i, c := range avail {
		if !keep(i) {
			continue
		}
		row := make([]*image.NRGBA, len(sets))
		ok := true
		for s := range sets {
			img, err := cachedRender(filepath.Join(dirs[s], strings.ReplaceAll(c.Name, " ", "-")+".png"), svgs[i][s])
			if err != nil {
				return nil, err
			}
			if img == nil {
				ok = false
				break
			}
			row[s] = img
		}
		if ok {
			e.concepts = append(e.concepts, c)
			masters = append(masters, row)
		}
	}
	for i := range e.concepts {
		if n, ok := renamed[e.concepts[i].Name]; ok {
			e.concepts[i].Name = n
		}
	}
	e.sprites = newSpriteCache(masters)
	e.colours = make([][]string, len(masters))
	for c, row := range masters {
		for _, m := range row {
			e.colours[c] = append(e.colours[c], dominantColour(m))
		}
	}
	return e, nil
}

// emojibaseConcepts reads the candidate vocabulary from emojibase-data: the
// animals-nature, food-drink, travel-places, activities and objects groups,
// with names the answer normalisers leave unchanged.
func emojibaseConcepts(tgz []byte) ([]Concept, error) {
	fs, err := tarFiles(tgz, "package/en/data.json", "package/meta/groups.json")
	if err != nil {
		return nil, fmt.Errorf("emoji assets: emojibase-data: %w", err)
	}
	var data []struct {
		Label    string `json:"label"`
		Group    *int   `json:"group"`
		Subgroup int    `json:"subgroup"`
		Order    int    `json:"order"`
	}
	var groups struct {
		Subgroups map[string]string `json:"subgroups"`
	}
	if err := json.Unmarshal(fs["package/en/data.json"], &data); err != nil {
		return nil, fmt.Errorf("emoji assets: emojibase data.json: %w", err)
	}
	if err := json.Unmarshal(fs["package/meta/groups.json"], &groups); err != nil {
		return nil, fmt.Errorf("emoji assets: emojibase groups.json: %w", err)
	}
	sort.SliceStable(data, func(a, b int) bool { return data[a].Order < data[b].Order })
	var cands []Concept
	seen := map[string]bool{}
	for _, d := range data {
		if d.Group == nil || *d.Group < 3 || *d.Group > 7 {
			continue
		}
		name := strings.ReplaceAll(strings.ToLower(d.Label), "-", " ")
		sub := groups.Subgroups[fmt.Sprint(d.Subgroup)]
		if !labelRE.MatchString(name) || skippedSubgroups[sub] || seen[name] {
			continue
		}
		banned := false
		for _, w := range strings.Fields(name) {
			banned = banned || bannedWords[w]
		}
		if banned {
			continue
		}
		seen[name] = true
		g, k := classify(sub)
		cands = append(cands, Concept{Name: name, Group: g, Subgroup: sub, Kind: k})
	}
	// Drop "X face" where "X" exists: the two look alike.
	var out []Concept
	for _, c := range cands {
		if base, ok := strings.CutSuffix(c.Name, " face"); ok && seen[base] {
			continue
		}
		out = append(out, c)
	}
	return out, nil
}

// cachedRender loads the master sprite at path, or renders svg and stores it
// there. It returns nil for an icon that renders empty.
func cachedRender(path, svg string) (*image.NRGBA, error) {
	if f, err := os.Open(path); err == nil {
		img, err := png.Decode(f)
		f.Close()
		if err == nil {
			return toNRGBA(img), nil
		}
	}
	img := renderSVG(svg, baseSize)
	if img == nil {
		return nil, nil
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		return nil, err
	}
	if err := atomic.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		return nil, err
	}
	return img, nil
}

// renderSVG rasterises an SVG document to a size×size sprite, or nil if it
// cannot be parsed or draws nothing.
func renderSVG(svg string, size int) *image.NRGBA {
	icon, err := oksvg.ReadIconStream(strings.NewReader(svg), oksvg.IgnoreErrorMode)
	if err != nil {
		return nil
	}
	icon.SetTarget(0, 0, float64(size), float64(size))
	rgba := image.NewRGBA(image.Rect(0, 0, size, size))
	scanner := rasterx.NewScannerGV(size, size, rgba, rgba.Bounds())
	icon.Draw(rasterx.NewDasher(size, size, scanner), 1)
	img := toNRGBA(rgba)
	if tightBounds(img).Empty() {
		return nil
	}
	return img
}

// classify maps an emojibase subgroup to a coarse group and a readable kind.
func classify(sub string) (group, kind string) {
	if k, ok := strings.CutPrefix(sub, "animal-"); ok {
		if k == "marine" {
			k = "sea animal"
		}
		return "animal", k
	}
	switch sub {
	case "plant-flower":
		return "plant", "flower"
	case "plant-other":
		return "plant", "plant"
	case "food-fruit":
		return "food", "fruit"
	case "food-vegetable":
		return "food", "vegetable"
	case "food-prepared":
		return "food", "prepared food"
	case "food-asian":
		return "food", "asian food"
	case "food-sweet":
		return "food", "sweet"
	case "drink":
		return "drink", "drink"
	case "place-geographic":
		return "place", "landscape"
	case "place-building":
		return "place", "building"
	case "place-religious":
		return "place", "religious building"
	case "place-other":
		return "place", "place"
	case "transport-ground":
		return "vehicle", "land vehicle"
	case "transport-water":
		return "vehicle", "boat"
	case "transport-air":
		return "vehicle", "aircraft"
	case "sky-weather":
		return "weather", "weather"
	case "event":
		return "activity", "celebration"
	case "award-medal":
		return "activity", "award"
	case "sport":
		return "activity", "sport"
	case "game":
		return "activity", "game"
	case "arts-crafts":
		return "activity", "craft"
	}
	return "object", strings.ReplaceAll(sub, "-", " ")
}

// Name implements Pack.
func (e *Emoji) Name() string { return "emoji" }

// Styles implements Pack.
func (e *Emoji) Styles() []string { return emojiStyles }

// Concepts implements Pack.
func (e *Emoji) Concepts() []Concept { return e.concepts }

// Versions implements Pack.
func (e *Emoji) Versions() []Version { return e.versions }

// Sprite implements Pack.
func (e *Emoji) Sprite(c, s, size int) (*image.NRGBA, error) { return e.sprites.get(c, s, size), nil }

// Colour implements Pack.
func (e *Emoji) Colour(c, s int) (string, error) { return e.colours[c][s], nil }
