// Package atomic writes files so that a reader sees either the old content or
// the whole new content, never a part: temp file in the same folder, write,
// fsync, close, rename over the target, fsync the folder (restic's Save). It
// also checksums files (HashFile), as the manifests that vouch for them do.
package atomic

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// WriteFile atomically replaces path with data.
func WriteFile(path string, data []byte, perm os.FileMode) error {
	f, err := Create(path, perm)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Abort()
		return err
	}
	return f.Commit()
}

// Write atomically replaces path with what fill writes. If fill fails,
// nothing is written and the old file, if any, stays.
func Write(path string, perm os.FileMode, fill func(w io.Writer) error) error {
	f, err := Create(path, perm)
	if err != nil {
		return err
	}
	bw := bufio.NewWriterSize(f, 1<<20)
	if err := fill(bw); err != nil {
		f.Abort()
		return err
	}
	if err := bw.Flush(); err != nil {
		f.Abort()
		return err
	}
	return f.Commit()
}

// File is a pending atomic write: write to it, then Commit or Abort.
type File struct {
	*os.File
	path string
	perm os.FileMode
	done bool
}

// Create starts an atomic write of path; the folder must exist.
func Create(path string, perm os.FileMode) (*File, error) {
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	tmp, err := os.CreateTemp(dir, "."+base+".tmp-*")
	if err != nil {
		return nil, err
	}
	return &File{File: tmp, path: path, perm: perm}, nil
}

// Commit fsyncs the temp file, renames it over the target and fsyncs the folder.
func (f *File) Commit() error {
	if f.done {
		return fmt.Errorf("atomic: %s already committed or aborted", f.path)
	}
	f.done = true
	tmp := f.File.Name()
	err := f.File.Chmod(f.perm)
	if err == nil {
		err = f.File.Sync()
	}
	if cerr := f.File.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, f.path)
	}
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("atomic write %s: %w", f.path, err)
	}
	return SyncDir(filepath.Dir(f.path))
}

// Abort discards the temp file; the target is untouched. Safe after Commit.
func (f *File) Abort() {
	if f.done {
		return
	}
	f.done = true
	f.File.Close()
	os.Remove(f.File.Name())
}

// SyncDir fsyncs a folder so that a rename in it survives a crash.
func SyncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("fsync %s: %w", dir, err)
	}
	return nil
}

// HashFile returns the hex SHA-256 of the file at path.
func HashFile(path string) (string, error) { return hashFile(path, false) }

// SyncAndHash fsyncs the file at path (a file written by other means than
// this package, before it is renamed into place) and returns its hex
// SHA-256.
func SyncAndHash(path string) (string, error) { return hashFile(path, true) }

func hashFile(path string, sync bool) (string, error) {
	flag := os.O_RDONLY
	if sync {
		flag = os.O_RDWR
	}
	f, err := os.OpenFile(path, flag, 0)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	if sync {
		if err := f.Sync(); err != nil {
			return "", fmt.Errorf("fsync %s: %w", path, err)
		}
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}
