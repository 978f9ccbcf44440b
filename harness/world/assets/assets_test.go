package assets

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestLock(t *testing.T) {
	l := Lock()
	if len(l) != 5 {
		t.Fatalf("assets.lock lists %d packages, want 5", len(l))
	}
	for _, e := range l {
		if len(e.SHA256) != 64 || !strings.HasSuffix(e.File, ".tgz") {
			t.Errorf("bad lock entry %+v", e)
		}
	}
}

func TestShapesPack(t *testing.T) {
	p, err := Open("shapes", "")
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Concepts()) != 60 || len(p.Styles()) != 4 || p.Versions() != nil {
		t.Fatalf("shapes: %d concepts, %d styles", len(p.Concepts()), len(p.Styles()))
	}
	for c, con := range p.Concepts() {
		for s := range p.Styles() {
			sp, _ := p.Sprite(c, s, 20)
			if sp.Bounds().Dx() != 20 || TightBounds(sp).Empty() {
				t.Fatalf("%s/%s: empty sprite", con.Name, p.Styles()[s])
			}
			if col, _ := p.Colour(c, s); !strings.HasPrefix(con.Name, col+" ") {
				t.Errorf("%s: colour %s", con.Name, col)
			}
		}
	}
}

func TestUnknownPack(t *testing.T) {
	var ue *UnknownPackError
	if _, err := Open("clipart", ""); !errors.As(err, &ue) {
		t.Fatalf("want UnknownPackError, got %v", err)
	}
}

func TestMissingAndTamperedAssets(t *testing.T) {
	dir := t.TempDir()
	_, err := OpenEmoji(dir)
	var me *MissingError
	if !errors.As(err, &me) || me.Got != "" || !strings.Contains(err.Error(), "is missing") || !strings.Contains(err.Error(), "scripts/fetch-assets.sh") {
		t.Fatalf("empty cache: want a MissingError saying how to fetch, got %v", err)
	}
	first := Lock()[0]
	if err := os.WriteFile(filepath.Join(dir, first.File), []byte("not the tarball"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err = OpenEmoji(dir)
	if !errors.As(err, &me) || me.Got == "" || !strings.Contains(err.Error(), "tampered") || !strings.Contains(err.Error(), "scripts/fetch-assets.sh") {
		t.Fatalf("tampered cache: want a hash MissingError saying how to fetch, got %v", err)
	}
}

// openFetched opens the emoji pack from the fetched cache; a missing cache
// fails the test (scripts/test.sh fetches the assets first).
func openFetched(t testing.TB) Pack {
	t.Helper()
	p, err := Open("emoji", "")
	if err != nil {
		t.Fatalf("this test needs the emoji assets: run scripts/fetch-assets.sh from the repository root: %v", err)
	}
	return p
}

func TestEmojiPack(t *testing.T) {
	p := openFetched(t)
	if n := len(p.Concepts()); n < 200 || n > maxConcepts {
		t.Errorf("%d concepts, want a few hundred (200..%d)", n, maxConcepts)
	}
	if got := strings.Join(p.Styles(), ","); got != "noto,fluent-emoji-flat,twemoji,emojione" {
		t.Errorf("styles %s", got)
	}
	if len(p.Versions()) != 5 {
		t.Errorf("%d versions, want 5", len(p.Versions()))
	}
	groups := map[string]int{}
	names := map[string]bool{}
	for c, con := range p.Concepts() {
		groups[con.Group]++
		if names[con.Name] || con.Kind == "" || con.Subgroup == "" {
			t.Errorf("concept %d %+v: duplicate name or missing kind", c, con)
		}
		names[con.Name] = true
		for s := range p.Styles() {
			sp, _ := p.Sprite(c, s, 24)
			if TightBounds(sp).Empty() {
				t.Errorf("%s/%s renders empty", con.Name, p.Styles()[s])
			}
		}
	}
	for _, n := range renamed {
		if !names[n] {
			t.Errorf("renamed concept %q is not in the vocabulary", n)
		}
	}
	for _, g := range []string{"animal", "food", "place", "vehicle", "activity", "object"} {
		if groups[g] < 5 {
			t.Errorf("group %s has %d concepts", g, groups[g])
		}
	}
}

// TestOpenSharesThePack: the emoji pack is opened once per cache folder
// ("" is DefaultCacheDir) and process; a failed open is not kept.
func TestOpenSharesThePack(t *testing.T) {
	p := openFetched(t)
	q, err := Open("emoji", DefaultCacheDir())
	if err != nil {
		t.Fatal(err)
	}
	if p != q {
		t.Error("two opens of the same cache folder gave two packs")
	}
	dir := t.TempDir()
	for range 2 {
		var me *MissingError
		if _, err := Open("emoji", dir); !errors.As(err, &me) {
			t.Fatalf("empty cache: want a MissingError each time, got %v", err)
		}
	}
}
