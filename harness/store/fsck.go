package store

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/tive-dev/tive/harness/atomic"
)

// Problem is something wrong in a store, as Check finds it.
type Problem struct {
	Kind   string // Corrupt, HalfWritten, Orphaned or Stale
	Path   string // the object, file or folder, relative to the store
	Key    string // the key, for objects with a manifest
	Stage  string // the stage that made it, when known
	Detail string
}

// The kinds of Problem.
const (
	Corrupt     = "corrupt"      // an object whose files or manifest do not match
	HalfWritten = "half-written" // an object folder without MANIFEST.json
	Orphaned    = "orphaned"     // something in objects/ that is no object, or not where its key puts it
	Stale       = "stale"        // a folder in tmp/ that no run will use
)

func (p Problem) String() string {
	what := p.Path
	if p.Key != "" {
		what = p.Key[:12] + " " + p.Stage
	}
	return fmt.Sprintf("%s %s: %s", p.Kind, what, p.Detail)
}

// Check walks the whole store, without the cache of outputs verified by
// this process: every object's files against its manifest's SHA-256s (and
// no file the manifest does not list), object folders without a manifest,
// anything in objects/ that is not an object folder under its key's
// prefix, and folders in tmp/ that no run will use (those of killed runs,
// and resumable work whose key is committed). Call it holding the lock.
func (s *Store) Check() (objects int, problems []Problem, err error) {
	prefixes, err := os.ReadDir(filepath.Join(s.Dir, "objects"))
	if err != nil {
		return 0, nil, err
	}
	rel := func(p string) string {
		r, _ := filepath.Rel(s.Dir, p)
		return filepath.ToSlash(r)
	}
	for _, d := range prefixes {
		dir := filepath.Join(s.Dir, "objects", d.Name())
		if !d.IsDir() {
			problems = append(problems, Problem{Kind: Orphaned, Path: rel(dir), Detail: "a file where object folders go"})
			continue
		}
		ents, err := os.ReadDir(dir)
		if err != nil {
			return 0, nil, err
		}
		for _, e := range ents {
			p := filepath.Join(dir, e.Name())
			key := e.Name()
			switch {
			case !e.IsDir() || len(key) < 2 || key[:2] != d.Name():
				problems = append(problems, Problem{Kind: Orphaned, Path: rel(p), Detail: "not an object folder under its key's prefix"})
				continue
			case !s.Has(key):
				problems = append(problems, Problem{Kind: HalfWritten, Path: rel(p), Detail: "no MANIFEST.json"})
				continue
			}
			objects++
			bad := Problem{Kind: Corrupt, Path: rel(p), Key: key}
			m, err := s.Manifest(key)
			if err != nil {
				bad.Detail = "MANIFEST.json: " + err.Error()
				problems = append(problems, bad)
				continue
			}
			bad.Stage = m.Stage
			if m.Key != key {
				bad.Detail = fmt.Sprintf("MANIFEST.json names key %.12s", m.Key)
				problems = append(problems, bad)
				continue
			}
			if err := s.verifyFiles(key, m); err != nil {
				bad.Detail = err.Error()
				problems = append(problems, bad)
			}
		}
	}
	tmp, err := os.ReadDir(filepath.Join(s.Dir, "tmp"))
	if err != nil && !os.IsNotExist(err) {
		return 0, nil, err
	}
	for _, e := range tmp {
		p := filepath.Join(s.Dir, "tmp", e.Name())
		key, resumable := strings.CutPrefix(e.Name(), "resume-")
		switch {
		case !resumable:
			problems = append(problems, Problem{Kind: Stale, Path: rel(p), Detail: "left by a run that did not finish"})
		case len(key) >= 2 && s.Has(key):
			problems = append(problems, Problem{Kind: Stale, Path: rel(p), Detail: "resumable work of a committed output"})
		}
	}
	return objects, problems, nil
}

// unlisted is the first file under dir (other than MANIFEST.json) that m
// does not list, or "".
func unlisted(dir string, m *Manifest) string {
	var extra string
	filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || extra != "" {
			return err
		}
		r, _ := filepath.Rel(dir, p)
		if r = filepath.ToSlash(r); r != ManifestFile && m.Files[r] == "" {
			extra = r
		}
		return nil
	})
	return extra
}

// Repair makes p harmless: a stale folder is removed; anything in objects/
// moves to corrupt/NAME-<unix ns>, kept for inspection, so that a run no
// longer finds it and recomputes the output. It returns where it went ("" when
// removed).
func (s *Store) Repair(p Problem) (string, error) {
	src := filepath.Join(s.Dir, filepath.FromSlash(p.Path))
	if p.Kind == Stale {
		return "", os.RemoveAll(src)
	}
	return s.moveAside(src)
}

// moveAside moves src to DIR/corrupt/NAME-<unix ns> and returns where.
func (s *Store) moveAside(src string) (string, error) {
	dst := filepath.Join(s.Dir, "corrupt", fmt.Sprintf("%s-%d", filepath.Base(src), time.Now().UnixNano()))
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return "", err
	}
	if err := os.Rename(src, dst); err != nil {
		return "", err
	}
	return dst, atomic.SyncDir(filepath.Dir(src))
}
