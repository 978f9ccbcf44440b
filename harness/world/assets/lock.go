package assets

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	_ "embed"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

//go:embed assets.lock
var lockFile []byte

// A LockEntry pins one npm tarball.
type LockEntry struct {
	Package, Version, File, SHA256 string
}

// Lock returns the pinned tarballs of the emoji pack, in lock-file order.
func Lock() []LockEntry {
	var out []LockEntry
	sc := bufio.NewScanner(bytes.NewReader(lockFile))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		f := strings.Fields(line)
		if len(f) != 4 {
			panic("assets: malformed assets.lock line: " + line)
		}
		out = append(out, LockEntry{f[0], f[1], f[2], f[3]})
	}
	return out
}

// DefaultCacheDir is $TIVE_ASSETS_DIR if set, else .cache/assets under the
// root of the tive checkout that holds the working folder (the folder with
// go.mod), else .cache/assets in the working folder.
func DefaultCacheDir() string {
	if d := os.Getenv("TIVE_ASSETS_DIR"); d != "" {
		return d
	}
	wd, err := os.Getwd()
	if err != nil {
		return filepath.Join(".cache", "assets")
	}
	for d := wd; ; d = filepath.Dir(d) {
		if b, err := os.ReadFile(filepath.Join(d, "go.mod")); err == nil && bytes.Contains(b, []byte("module github.com/tive-dev/tive")) {
			return filepath.Join(d, ".cache", "assets")
		}
		if filepath.Dir(d) == d {
			return filepath.Join(wd, ".cache", "assets")
		}
	}
}

// MissingError reports an absent or tampered tarball. Its message says how to
// fetch the assets.
type MissingError struct {
	Entry  LockEntry
	Path   string
	Got    string // SHA-256 found; "" when the file is absent
	Reason string
}

func (e *MissingError) Error() string {
	what := "is missing"
	if e.Got != "" {
		what = fmt.Sprintf("has SHA-256 %s, want %s (tampered or wrong version)", e.Got, e.Entry.SHA256)
	}
	if e.Reason != "" {
		what = e.Reason
	}
	return fmt.Sprintf("emoji assets: %s (%s@%s) %s; run scripts/fetch-assets.sh from the repository root "+
		"(it fetches the pinned packages with npm pack into .cache/assets, or $TIVE_ASSETS_DIR), or use --assets shapes",
		e.Path, e.Entry.Package, e.Entry.Version, what)
}

// readVerified reads the tarball of e from dir and checks its SHA-256.
func readVerified(dir string, e LockEntry) ([]byte, error) {
	p := filepath.Join(dir, e.File)
	b, err := os.ReadFile(p)
	if err != nil {
		if os.IsNotExist(err) {
			return nil, &MissingError{Entry: e, Path: p}
		}
		return nil, &MissingError{Entry: e, Path: p, Reason: "cannot be read: " + err.Error()}
	}
	sum := sha256.Sum256(b)
	if got := hex.EncodeToString(sum[:]); got != e.SHA256 {
		return nil, &MissingError{Entry: e, Path: p, Got: got}
	}
	return b, nil
}
