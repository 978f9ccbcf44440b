// Package assets provides the artwork of the built-in world: a Pack of named
// concepts, each drawable in several art styles as a small RGBA sprite.
//
// Two packs exist. The emoji pack renders real emoji artwork (Noto, Fluent
// Emoji Flat, Twemoji, EmojiOne) from pinned npm tarballs that
// scripts/fetch-assets.sh caches; names, groups and subgroups come from
// emojibase-data. The shapes pack draws procedural coloured shapes and needs
// no download; unit tests use it. A missing or tampered tarball is an error
// that says how to fetch it; there is never a silent fallback between packs.
package assets

import (
	"image"
	"sync"
)

// A Concept is one nameable kind of object.
type Concept struct {
	Name     string // lower-case words, e.g. "hot dog"
	Group    string // coarse category: animal, plant, food, drink, place, vehicle, activity, object, shape
	Subgroup string // emojibase subgroup, e.g. "animal-mammal"
	Kind     string // readable subgroup, e.g. "mammal"
}

// A Version identifies one input of a pack (an npm tarball and its hash).
type Version struct {
	Package string `json:"package"`
	Version string `json:"version"`
	SHA256  string `json:"sha256"`
}

// A Pack is a vocabulary of concepts drawable in several art styles.
// Implementations are safe for concurrent use.
type Pack interface {
	// Name is "emoji" or "shapes".
	Name() string
	// Styles lists the art styles; the last one is the held-out style.
	Styles() []string
	// Concepts lists the vocabulary in a fixed order.
	Concepts() []Concept
	// Sprite returns concept c in style s as a size×size image with a
	// transparent background. The result is shared: callers must not modify it.
	Sprite(c, s, size int) (*image.NRGBA, error)
	// Colour is the dominant colour name of concept c in style s.
	Colour(c, s int) (string, error)
	// Versions lists the pinned inputs (empty for procedural packs).
	Versions() []Version
}

// Open returns the pack called name ("emoji" or "shapes"); cacheDir is where
// scripts/fetch-assets.sh put the tarballs ("" means DefaultCacheDir). The
// emoji pack is opened (its tarballs verified and read, its sprites
// rendered) once per cache folder and process, and shared by later calls,
// as the shapes pack is: a run's stages in one process open the pack of
// their world dozens of times (every instruction tuning's rehearsal texts),
// a second each on the quick world. A failed open is not kept.
func Open(name, cacheDir string) (Pack, error) {
	switch name {
	case "shapes":
		return Shapes(), nil
	case "emoji":
		if cacheDir == "" {
			cacheDir = DefaultCacheDir()
		}
		emojiPacks.Lock()
		defer emojiPacks.Unlock()
		if e, ok := emojiPacks.open[cacheDir]; ok {
			return e, nil
		}
		e, err := OpenEmoji(cacheDir)
		if err != nil {
			return nil, err
		}
		emojiPacks.open[cacheDir] = e
		return e, nil
	}
	return nil, &UnknownPackError{Name: name}
}

// emojiPacks are the emoji packs Open has opened, by cache folder.
var emojiPacks = struct {
	sync.Mutex
	open map[string]*Emoji
}{open: map[string]*Emoji{}}

// UnknownPackError reports a pack name other than "emoji" or "shapes".
type UnknownPackError struct{ Name string }

func (e *UnknownPackError) Error() string {
	return "unknown asset pack " + quote(e.Name) + " (valid: emoji, shapes)"
}

func quote(s string) string { return "\"" + s + "\"" }
