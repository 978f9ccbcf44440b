package backend

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/tive-dev/tive/harness/grad"
)

// ShardVectors are the per-example vectors every feature shard must hold.
var ShardVectors = []string{"norms", "loss", "el2n"}

// ShardError names a shard that failed VerifyShards.
type ShardError struct {
	Dir   string
	Shard string // manifest file name
	Err   error
}

func (e *ShardError) Error() string { return fmt.Sprintf("%s: %s: %v", e.Dir, e.Shard, e.Err) }

func (e *ShardError) Unwrap() error { return e.Err }

// VerifyShards checks that dir holds every shard of rows [start, end) in
// steps of shardSize from start (the layout of a FeaturesRequest), each
// whole: a manifest of format grad.ShardFormat with projector identity want
// and pool size records, a features .npy [rows, want.Dim] of want.Dtype and
// the vectors ShardVectors of [rows] values, every file with the length its
// header implies and the SHA-256 its manifest records. The first bad or
// missing shard is returned as a *ShardError. It is the completeness check
// to run before a merge of shards that another process wrote; a whole
// store is then opened with grad.OpenStore.
func VerifyShards(dir string, want grad.ProjectorID, records, start, end, shardSize int) error {
	if shardSize <= 0 || start < 0 || start >= end || end > records {
		return fmt.Errorf("verify shards: rows [%d, %d) in shards of %d are not a range of %d records", start, end, shardSize, records)
	}
	for lo := start; lo < end; lo += shardSize {
		hi := min(end, lo+shardSize)
		name := grad.ShardName(lo, hi)
		if err := verifyShard(dir, name, want, records, lo, hi); err != nil {
			return &ShardError{Dir: dir, Shard: name, Err: err}
		}
	}
	return nil
}

func verifyShard(dir, name string, want grad.ProjectorID, records, lo, hi int) error {
	s, err := grad.CheckShard(dir, name, true)
	if s == nil && errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("missing: %v", err)
	}
	if err != nil {
		return err
	}
	switch {
	case s.Projector != want:
		return fmt.Errorf("projector %+v, want %+v", s.Projector, want)
	case s.Records != records || s.Start != lo || s.End != hi:
		return fmt.Errorf("rows [%d, %d) of %d, want [%d, %d) of %d", s.Start, s.End, s.Records, lo, hi, records)
	}
	for _, v := range ShardVectors {
		vf, ok := s.Vectors[v]
		if !ok {
			return fmt.Errorf("no %q vector", v)
		}
		if _, err := grad.ReadVector(filepath.Join(dir, vf.File)); err != nil {
			return err // NaN or infinite values
		}
	}
	return nil
}

// quarantine renames a bad shard's manifest to <name>.bad, so that neither
// a resume (grad.ShardWriter.Done) nor a merge (grad.OpenStore) takes it.
func quarantine(dir, name string) error {
	p := filepath.Join(dir, name)
	if _, err := os.Stat(p); err != nil {
		return nil
	}
	return os.Rename(p, p+".bad")
}
