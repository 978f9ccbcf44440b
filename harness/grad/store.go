package grad

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"

	"github.com/tive-dev/tive/harness/atomic"
)

// Projector identity as recorded with every shard: features from projectors
// that differ in any field are not comparable and are never merged.
type ProjectorID struct {
	Kind  string `json:"kind"` // "rademacher", "factored", "identity", "import", ...
	Seed  uint64 `json:"seed"`
	Dim   int    `json:"dim"`
	Dtype Dtype  `json:"dtype"`
	// Precondition is "adam" for Adam gradient features (Config.Adam), ""
	// for plain gradients.
	Precondition string `json:"precondition,omitempty"`
}

// ShardFormat tags shard manifests.
const ShardFormat = "tive-feature-shard/1"

// Shard is the manifest of one shard of a sharded feature store, written as
// shard-<start>-<end>.json beside its files. Rows [Start, End) of the pool.
type Shard struct {
	Format    string             `json:"format"`
	Projector ProjectorID        `json:"projector"`
	Records   int                `json:"records"` // N of the whole pool
	Start     int                `json:"start"`
	End       int                `json:"end"`
	Features  FileSum            `json:"features"`          // [End-Start, Dim] .npy
	Vectors   map[string]FileSum `json:"vectors,omitempty"` // per-example [End-Start] .npy: "norms", "loss", "el2n", ...
}

// FileSum names a file (relative to the store folder) and its SHA-256.
type FileSum struct {
	File   string `json:"file"`
	SHA256 string `json:"sha256"`
}

// ShardWriter writes shards into a store folder: each shard's files first,
// its manifest last (atomically), so a shard exists only once it is whole and
// a killed extraction resumes at the first missing shard.
type ShardWriter struct {
	Dir       string
	Projector ProjectorID
	Records   int
}

// ShardName is the manifest file name of rows [start, end).
func ShardName(start, end int) string { return fmt.Sprintf("shard-%09d-%09d.json", start, end) }

// Done reports whether a whole shard [start, end) with this writer's
// projector identity is already in the folder (its files are not re-hashed).
func (sw *ShardWriter) Done(start, end int) bool {
	s, err := readShard(filepath.Join(sw.Dir, ShardName(start, end)))
	return err == nil && s.Projector == sw.Projector && s.Records == sw.Records
}

// Write stores rows [start, end): features is [end-start, Dim] row-major,
// vectors are per-example values (each of length end-start).
func (sw *ShardWriter) Write(start, end int, features []float32, vectors map[string][]float64) error {
	n, d := end-start, sw.Projector.Dim
	if n <= 0 || len(features) != n*d {
		return fmt.Errorf("shard [%d, %d): %d feature values, want %d x %d", start, end, len(features), n, d)
	}
	if err := os.MkdirAll(sw.Dir, 0o755); err != nil {
		return err
	}
	base := fmt.Sprintf("shard-%09d-%09d", start, end)
	s := Shard{Format: ShardFormat, Projector: sw.Projector, Records: sw.Records, Start: start, End: end, Vectors: map[string]FileSum{}}
	fp := filepath.Join(sw.Dir, base+".features.npy")
	if err := WriteMatrix(fp, sw.Projector.Dtype, n, d, func(i int, dst []float32) { copy(dst, features[i*d:(i+1)*d]) }); err != nil {
		return err
	}
	var err error
	if s.Features, err = sumFile(sw.Dir, base+".features.npy"); err != nil {
		return err
	}
	names := make([]string, 0, len(vectors))
	for k := range vectors {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		if len(vectors[k]) != n {
			return fmt.Errorf("shard [%d, %d): vector %q has %d values, want %d", start, end, k, len(vectors[k]), n)
		}
		fn := base + "." + k + ".npy"
		if err := WriteVector(filepath.Join(sw.Dir, fn), Float32, vectors[k]); err != nil {
			return err
		}
		if s.Vectors[k], err = sumFile(sw.Dir, fn); err != nil {
			return err
		}
	}
	b, _ := json.MarshalIndent(s, "", "  ")
	return atomic.WriteFile(filepath.Join(sw.Dir, ShardName(start, end)), append(b, '\n'), 0o644)
}

func sumFile(dir, name string) (FileSum, error) {
	sum, err := atomic.HashFile(filepath.Join(dir, name))
	return FileSum{File: name, SHA256: sum}, err
}

func readShard(path string) (*Shard, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var s Shard
	if err := json.Unmarshal(b, &s); err != nil {
		return nil, fmt.Errorf("%s: %v", path, err)
	}
	if s.Format != ShardFormat {
		return nil, fmt.Errorf("%s: format %q (want %s)", path, s.Format, ShardFormat)
	}
	return &s, nil
}

// Store is a verified sharded feature store: shards that agree on projector
// identity and N, and cover rows [0, N) exactly once, in order.
type Store struct {
	Dir    string
	Shards []*Shard
}

// OpenStore reads every shard manifest of dir and checks that they merge:
// same projector identity and N, no gap or overlap, every file present with
// the length its header implies. With verify, file contents are also checked
// against their SHA-256 (one extra read of the store).
func OpenStore(dir string, verify bool) (*Store, error) {
	names, err := filepath.Glob(filepath.Join(dir, "shard-*-*.json"))
	if err != nil {
		return nil, err
	}
	if len(names) == 0 {
		return nil, fmt.Errorf("%s: no feature shards (shard-*.json)", dir)
	}
	sort.Strings(names)
	st := &Store{Dir: dir}
	for _, n := range names {
		s, err := readShard(n)
		if err != nil {
			return nil, err
		}
		if len(st.Shards) > 0 {
			f := st.Shards[0]
			if s.Projector != f.Projector {
				return nil, fmt.Errorf("%s: projector %+v disagrees with %s's %+v; shards from different projectors cannot be merged", filepath.Base(n), s.Projector, ShardName(f.Start, f.End), f.Projector)
			}
			if s.Records != f.Records {
				return nil, fmt.Errorf("%s: pool of %d records disagrees with %s's %d", filepath.Base(n), s.Records, ShardName(f.Start, f.End), f.Records)
			}
		}
		st.Shards = append(st.Shards, s)
	}
	next := 0
	for _, s := range st.Shards {
		switch {
		case s.Start > next:
			return nil, fmt.Errorf("%s: rows [%d, %d) are missing (no shard covers them)", dir, next, s.Start)
		case s.Start < next:
			return nil, fmt.Errorf("%s: %s overlaps the shard before it (rows from %d are covered twice)", dir, ShardName(s.Start, s.End), s.Start)
		}
		next = s.End
		if err := checkShard(dir, s, verify); err != nil {
			return nil, err
		}
	}
	if n := st.Shards[0].Records; next != n {
		return nil, fmt.Errorf("%s: rows [%d, %d) are missing (no shard covers them)", dir, next, n)
	}
	return st, nil
}

// CheckShard reads the shard manifest name in dir and checks its files:
// present, each of the length its .npy header implies, with the shard's
// rows, the features of the projector's dimension and dtype, and, with
// verify, the SHA-256 the manifest records.
func CheckShard(dir, name string, verify bool) (*Shard, error) {
	s, err := readShard(filepath.Join(dir, name))
	if err != nil {
		return nil, err
	}
	return s, checkShard(dir, s, verify)
}

func checkShard(dir string, s *Shard, verify bool) error {
	files := []FileSum{s.Features}
	for _, v := range s.Vectors {
		files = append(files, v)
	}
	for _, fs := range files {
		p := filepath.Join(dir, fs.File)
		f, err := os.Open(p)
		if err != nil {
			return fmt.Errorf("shard %s: %v", ShardName(s.Start, s.End), err)
		}
		h, err := ReadNpyHeader(f)
		if err == nil {
			err = checkSize(f, p, h)
		}
		f.Close()
		if err != nil {
			return fmt.Errorf("shard %s: %v", ShardName(s.Start, s.End), err)
		}
		if h.Shape[0] != s.End-s.Start {
			return fmt.Errorf("shard %s: %s has %d rows, want %d", ShardName(s.Start, s.End), fs.File, h.Shape[0], s.End-s.Start)
		}
		if fs == s.Features && (len(h.Shape) != 2 || h.Shape[1] != s.Projector.Dim || h.Dtype != s.Projector.Dtype) {
			return fmt.Errorf("shard %s: %s is %v %s, want [%d, %d] %s", ShardName(s.Start, s.End), fs.File, h.Shape, h.Dtype, h.Shape[0], s.Projector.Dim, s.Projector.Dtype)
		}
		if verify {
			got, err := sumFile(dir, fs.File)
			if err != nil {
				return err
			}
			if got.SHA256 != fs.SHA256 {
				return fmt.Errorf("shard %s: %s is corrupt (SHA-256 %s, manifest says %s)", ShardName(s.Start, s.End), fs.File, got.SHA256[:12], fs.SHA256[:12])
			}
		}
	}
	return nil
}

// Projector returns the store's projector identity.
func (st *Store) Projector() ProjectorID { return st.Shards[0].Projector }

// Len returns N.
func (st *Store) Len() int { return st.Shards[0].Records }

// Dim returns d.
func (st *Store) Dim() int { return st.Shards[0].Projector.Dim }

// Scan implements Features over the shards in order.
func (st *Store) Scan(workers int, fn func(w, i int, row []float32) error) error {
	for _, s := range st.Shards {
		p := filepath.Join(st.Dir, s.Features.File)
		m, err := OpenMatrix(p)
		if err != nil {
			return err
		}
		if err := scanFile(p, m.Header.Offset, s.End-s.Start, s.Projector.Dim, s.Projector.Dtype, s.Start, workers, fn); err != nil {
			return err
		}
	}
	return nil
}

// Vector concatenates a per-example vector ("norms", "loss", ...) over the
// shards; it is an error if a shard lacks it or holds a non-finite value.
func (st *Store) Vector(name string) ([]float64, error) {
	out := make([]float64, 0, st.Len())
	for _, s := range st.Shards {
		fs, ok := s.Vectors[name]
		if !ok {
			return nil, fmt.Errorf("shard %s has no %q vector", ShardName(s.Start, s.End), name)
		}
		v, err := ReadVector(filepath.Join(st.Dir, fs.File))
		if err != nil {
			return nil, err
		}
		out = append(out, v...)
	}
	return out, nil
}

// Merge writes the store as one features .npy [N, d] and one .npy [N] per
// vector, named <prefix>features.npy and <prefix><vector>.npy in outDir.
func (st *Store) Merge(outDir, prefix string) error {
	f, err := atomic.Create(filepath.Join(outDir, prefix+"features.npy"), 0o644)
	if err != nil {
		return err
	}
	p := st.Projector()
	if _, err := f.Write(EncodeNpyHeader(p.Dtype, []int{st.Len(), p.Dim})); err != nil {
		f.Abort()
		return err
	}
	for _, s := range st.Shards {
		m, err := OpenMatrix(filepath.Join(st.Dir, s.Features.File))
		if err == nil {
			err = copyData(f, m.Path, m.Header.Offset)
		}
		if err != nil {
			f.Abort()
			return err
		}
	}
	if err := f.Commit(); err != nil {
		return err
	}
	for name := range st.Shards[0].Vectors {
		v, err := st.Vector(name)
		if err != nil {
			return err
		}
		if err := WriteVector(filepath.Join(outDir, prefix+name+".npy"), Float32, v); err != nil {
			return err
		}
	}
	return nil
}

func copyData(w io.Writer, path string, off int64) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	if _, err := f.Seek(off, io.SeekStart); err != nil {
		return err
	}
	_, err = io.Copy(w, f)
	return err
}
