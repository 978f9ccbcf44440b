// Package store is the content-addressed, resumable run store that stages
// write into (package pipeline computes the keys):
//
//	DIR/objects/KE/KEY/   one folder per stage output, MANIFEST.json last
//	DIR/tmp/              work in progress; tmp/resume-KEY for resumable stages
//	DIR/results/          what each study's runs produced (pipeline)
//	DIR/LOCK              one run at a time
//	DIR/filehashes.json   SHA-256 of external inputs, by path, size and time
//
// A stage writes into tmp/, every file is fsynced, MANIFEST.json is written,
// the folder is renamed into objects/ and objects/ is fsynced. A key folder
// therefore exists only when complete; a run killed at any moment leaves at
// most a tmp/ folder, which the next run removes. Verify, Check and Repair
// hold committed folders to their manifests.
package store

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/tive-dev/tive/harness/atomic"
)

// Store is a run store folder.
type Store struct {
	Dir string
	// Hook, when set (by crash tests), is called at named points of a run:
	// the store's "before-commit:STAGE" and "after-commit:STAGE", and those
	// the pipeline passes to At.
	Hook func(point string)

	mu     sync.Mutex
	hashes map[string]fileHash // external file hash cache, by absolute path
	// sound holds the keys this process committed or verified, so that the
	// studies of one reproduction, sharing a world and a base model, read
	// those once.
	sound map[string]bool
}

func (s *Store) markSound(key string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.sound == nil {
		s.sound = map[string]bool{}
	}
	s.sound[key] = true
}

// Manifest describes one stage output.
type Manifest struct {
	Key      string            `json:"key"`
	Stage    string            `json:"stage"`
	Version  string            `json:"version"`
	Params   json.RawMessage   `json:"params"`
	Seed     uint64            `json:"seed"`
	Inputs   map[string]string `json:"inputs"` // name -> upstream key or "sha256:<hex> <path>"
	Files    map[string]string `json:"files"`  // file -> SHA-256
	Spec     string            `json:"spec,omitempty"`
	SpecHash string            `json:"spec_hash,omitempty"`
	Run      string            `json:"run,omitempty"`
	Code     VersionInfo       `json:"code"`
	Created  time.Time         `json:"created"`
	Seconds  float64           `json:"seconds"`
}

// Open opens the store in dir, creating its folders if needed.
func Open(dir string) (*Store, error) {
	for _, sub := range []string{"objects", "tmp", "results"} {
		if err := os.MkdirAll(filepath.Join(dir, sub), 0o755); err != nil {
			return nil, err
		}
	}
	return &Store{Dir: dir}, nil
}

// Path is the folder of a committed key.
func (s *Store) Path(key string) string { return filepath.Join(s.Dir, "objects", key[:2], key) }

// ManifestFile is the manifest's name in a key's folder, written last.
const ManifestFile = "MANIFEST.json"

// Has reports whether key is committed (its manifest exists).
func (s *Store) Has(key string) bool {
	_, err := os.Stat(filepath.Join(s.Path(key), ManifestFile))
	return err == nil
}

// Manifest reads a committed key's manifest.
func (s *Store) Manifest(key string) (*Manifest, error) { return ReadManifest(s.Path(key)) }

// ReadManifest reads the manifest of a key's folder dir.
func ReadManifest(dir string) (*Manifest, error) {
	p := filepath.Join(dir, ManifestFile)
	b, err := os.ReadFile(p)
	if err != nil {
		return nil, err
	}
	var m Manifest
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("%s: %v", p, err)
	}
	return &m, nil
}

// Keys lists every committed key.
func (s *Store) Keys() ([]string, error) {
	var keys []string
	dirs, err := os.ReadDir(filepath.Join(s.Dir, "objects"))
	if err != nil {
		return nil, err
	}
	for _, d := range dirs {
		ents, _ := os.ReadDir(filepath.Join(s.Dir, "objects", d.Name()))
		for _, e := range ents {
			if s.Has(e.Name()) {
				keys = append(keys, e.Name())
			}
		}
	}
	sort.Strings(keys)
	return keys, nil
}

// Resolve expands a unique key prefix.
func (s *Store) Resolve(prefix string) (string, error) {
	keys, err := s.Keys()
	if err != nil {
		return "", err
	}
	var hits []string
	for _, k := range keys {
		if strings.HasPrefix(k, prefix) {
			hits = append(hits, k)
		}
	}
	switch len(hits) {
	case 0:
		return "", fmt.Errorf("no stage output with key %q in %s", prefix, s.Dir)
	case 1:
		return hits[0], nil
	}
	return "", fmt.Errorf("key prefix %q is ambiguous (%d matches); give more characters", prefix, len(hits))
}

// Begin creates a temporary folder for a stage output. A resumable stage gets
// the same folder, tmp/resume-KEY, on every attempt, with whatever an
// interrupted attempt left in it; others get a fresh one.
func (s *Store) Begin(key string, resumable bool) (string, error) {
	if resumable {
		dir := filepath.Join(s.Dir, "tmp", "resume-"+key)
		return dir, os.MkdirAll(dir, 0o755)
	}
	return os.MkdirTemp(filepath.Join(s.Dir, "tmp"), key[:12]+"-")
}

// Commit makes tmp the output of key: fsync every file, write the manifest
// (with file checksums), rename the folder into place, fsync its parent. If
// key already exists (another run committed it) tmp is discarded.
func (s *Store) Commit(tmp string, m *Manifest) error {
	m.Files = map[string]string{}
	err := filepath.WalkDir(tmp, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(tmp, p)
		sum, err := atomic.SyncAndHash(p)
		m.Files[filepath.ToSlash(rel)] = sum
		return err
	})
	if err != nil {
		return err
	}
	b, _ := json.MarshalIndent(m, "", "  ")
	if err := atomic.WriteFile(filepath.Join(tmp, ManifestFile), append(b, '\n'), 0o644); err != nil {
		return err
	}
	s.At("before-commit:" + m.Stage)
	final := s.Path(m.Key)
	if err := os.MkdirAll(filepath.Dir(final), 0o755); err != nil {
		return err
	}
	if s.Has(m.Key) {
		return os.RemoveAll(tmp)
	}
	os.RemoveAll(final) // an incomplete folder (no manifest) is never trusted
	if err := os.Rename(tmp, final); err != nil {
		return err
	}
	if err := atomic.SyncDir(filepath.Dir(final)); err != nil {
		return err
	}
	s.markSound(m.Key)
	s.At("after-commit:" + m.Stage)
	return nil
}

// Verify checks a committed key's files against its manifest: each file the
// manifest lists must exist with its SHA-256, and no other file may be there.
// It reads every byte of a key once per Store value (no cache by size and
// time: the point is to catch what changed on disk); a key this Store
// committed is not read.
func (s *Store) Verify(key string) error {
	s.mu.Lock()
	sound := s.sound[key]
	s.mu.Unlock()
	if sound {
		return nil
	}
	m, err := s.Manifest(key)
	if err != nil {
		return err
	}
	if err := s.verifyFiles(key, m); err != nil {
		return err
	}
	s.markSound(key)
	return nil
}

// verifyFiles checks every file m lists against its SHA-256, and that the
// folder holds no other (a stage reading the folder would take it).
func (s *Store) verifyFiles(key string, m *Manifest) error {
	if extra := unlisted(s.Path(key), m); extra != "" {
		return fmt.Errorf("%s: not in the manifest", extra)
	}
	for _, f := range slices.Sorted(maps.Keys(m.Files)) {
		sum, err := atomic.HashFile(filepath.Join(s.Path(key), filepath.FromSlash(f)))
		if err != nil {
			return fmt.Errorf("%s: %v", f, err)
		}
		if sum != m.Files[f] {
			return fmt.Errorf("%s: SHA-256 %s, the manifest says %s", f, sum[:12], m.Files[f][:12])
		}
	}
	return nil
}

// Quarantine moves a committed key's folder to DIR/corrupt/KEY-<unix ns>,
// kept for inspection, and returns where; the key is then missing, so a
// run recomputes it.
func (s *Store) Quarantine(key string) (string, error) { return s.moveAside(s.Path(key)) }

// CleanTmp removes folders left in tmp/ by killed runs, except the work of
// resumable stages (tmp/resume-KEY); call it holding the lock.
func (s *Store) CleanTmp() error {
	ents, err := os.ReadDir(filepath.Join(s.Dir, "tmp"))
	if err != nil {
		return err
	}
	for _, e := range ents {
		if strings.HasPrefix(e.Name(), "resume-") {
			continue
		}
		if err := os.RemoveAll(filepath.Join(s.Dir, "tmp", e.Name())); err != nil {
			return err
		}
	}
	return nil
}

type fileHash struct {
	Size  int64  `json:"size"`
	MTime int64  `json:"mtime_ns"`
	Sum   string `json:"sha256"`
}

// FileHash returns the SHA-256 of an external input file, or of every file
// under a folder (names and contents). Hashes are cached in the store by path,
// size and modification time, so a 10 GB feature file is read once.
func (s *Store) FileHash(path string) (string, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return "", err
	}
	st, err := os.Stat(abs)
	if err != nil {
		return "", err
	}
	if st.IsDir() {
		return s.dirHash(abs)
	}
	s.mu.Lock()
	if s.hashes == nil {
		s.hashes = map[string]fileHash{}
		if b, err := os.ReadFile(filepath.Join(s.Dir, "filehashes.json")); err == nil {
			json.Unmarshal(b, &s.hashes)
		}
	}
	c, ok := s.hashes[abs]
	s.mu.Unlock()
	if ok && c.Size == st.Size() && c.MTime == st.ModTime().UnixNano() {
		return c.Sum, nil
	}
	sum, err := atomic.HashFile(abs)
	if err != nil {
		return "", err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.hashes[abs] = fileHash{Size: st.Size(), MTime: st.ModTime().UnixNano(), Sum: sum}
	b, _ := json.MarshalIndent(s.hashes, "", " ")
	return sum, atomic.WriteFile(filepath.Join(s.Dir, "filehashes.json"), b, 0o644)
}

func (s *Store) dirHash(dir string) (string, error) {
	h := sha256.New()
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		sum, err := s.FileHash(p)
		rel, _ := filepath.Rel(dir, p)
		fmt.Fprintf(h, "%s %s\n", sum, filepath.ToSlash(rel))
		return err
	})
	return hex.EncodeToString(h.Sum(nil)), err
}

// VersionInfo says which code produced an artifact.
type VersionInfo struct {
	Harness string `json:"harness"`
	Commit  string `json:"commit"`
	Dirty   bool   `json:"dirty"`
	Go      string `json:"go"`
	Arith   string `json:"arith"` // float32 matrix products: "gonum" or "openblas VERSION KERNEL"
}

// At calls s.Hook at point, if it is set.
func (s *Store) At(point string) {
	if s.Hook != nil {
		s.Hook(point)
	}
}
