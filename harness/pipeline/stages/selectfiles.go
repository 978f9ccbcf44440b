package stages

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"

	"github.com/tive-dev/tive/harness/atomic"
	"github.com/tive-dev/tive/harness/data"
	"github.com/tive-dev/tive/harness/grad"
	"github.com/tive-dev/tive/harness/selection"
	"github.com/tive-dev/tive/harness/spec"
	"github.com/tive-dev/tive/harness/world"
)

// SelectFiles names the inputs of a selection on disk.
type SelectFiles struct {
	Records  string // LLaVA JSON or JSONL
	Labels   string // labelling rules (built-in name or path); "" uses each record's "dataset"
	Features string // [N, d] .npy, or a sharded feature store folder; "" when the method needs none
	Norms    string // [N] .npy; "" takes the store's "norms" vector, or none
	// Validation is a feature store folder of validation examples with a
	// groups.json (the benchmark of each row), for less.
	Validation string
}

// name prefixes a selection error about one input with that input's file
// (norms read from a feature store are the store's).
func (in SelectFiles) name(err error) error {
	var se *selection.Error
	if !errors.As(err, &se) {
		return err
	}
	file := map[string]string{"features": in.Features, "validation": in.Validation, "norms": in.Norms}[se.Input]
	if se.Input == "norms" && file == "" {
		file = in.Features
	}
	if file == "" {
		return err
	}
	return fmt.Errorf("%s: %w", file, err)
}

// SelectOutputs names the files a selection writes; "" skips one.
type SelectOutputs struct {
	Subset string // LLaVA JSON list of the chosen records, in output order
	Scores string // JSON lines, one per record: index, id, task, influence, norm, selected
	Tasks  string // JSON list of per-task {task, n, difficulty, budget, selected}
}

// PoolSizes is the number of records of each task in the pool a run
// selects from, where it is known before the run: the world's mixture by
// its profile, a records file by reading it (and its labels). unknown says
// why not otherwise.
func PoolSizes(r spec.Run) (sizes map[string]int, unknown string, err error) {
	switch r.Data.Source {
	case "world":
		sizes, err := world.TaskSizes(r.World.Profile)
		return sizes, "", err
	case "file":
		if _, err := os.Stat(r.Data.Records); err != nil {
			return nil, fmt.Sprintf("%s is not there yet", r.Data.Records), nil
		}
		recs, _, err := LoadPool(SelectFiles{Records: r.Data.Records, Labels: r.Data.Labels}, selection.Random, 0)
		if err != nil {
			return nil, "", err
		}
		sizes := map[string]int{}
		for _, rec := range recs {
			sizes[rec.Task]++
		}
		return sizes, "", nil
	}
	return nil, fmt.Sprintf("data source %q", r.Data.Source), nil
}

// LoadPool reads and labels the records, and opens the features and norms the
// method needs, checking that their row counts match the records.
func LoadPool(in SelectFiles, method string, workers int) ([]data.Record, selection.Pool, error) {
	recs, err := data.Load(in.Records)
	if err != nil {
		return nil, selection.Pool{}, err
	}
	var lab data.Labeler
	if in.Labels != "" {
		rs, err := data.LoadRules(in.Labels)
		if err != nil {
			return nil, selection.Pool{}, err
		}
		lab = rs
	}
	if err := data.AssignTasks(in.Records, recs, lab); err != nil {
		return nil, selection.Pool{}, err
	}
	pool := selection.Pool{Workers: workers, Tasks: make([]string, len(recs)), Words: make([]int, len(recs))}
	for i := range recs {
		pool.Tasks[i] = recs[i].Task
		pool.Words[i] = recs[i].ResponseWords()
	}
	need := selection.Needs(method)
	needF, needN := need.Features, need.Norms
	var store *grad.Store
	if in.Features != "" {
		if st, err := os.Stat(in.Features); err == nil && st.IsDir() {
			if store, err = grad.OpenStore(in.Features, true); err != nil {
				return nil, pool, err
			}
			pool.Features = store
		} else {
			m, err := grad.OpenMatrix(in.Features)
			if err != nil {
				return nil, pool, err
			}
			pool.Features = m
		}
		if pool.Features.Len() != len(recs) {
			return nil, pool, fmt.Errorf("%s has %d rows but %s has %d records (row i must be record i)", in.Features, pool.Features.Len(), in.Records, len(recs))
		}
	} else if needF {
		return nil, pool, fmt.Errorf("method %s needs gradient features (an [N, d] .npy or a feature store)", method)
	}
	switch {
	case in.Norms != "":
		if pool.Norms, err = grad.ReadVector(in.Norms); err != nil {
			return nil, pool, err
		}
	case store != nil && needN:
		if pool.Norms, err = store.Vector("norms"); err != nil {
			return nil, pool, fmt.Errorf("%s: %v", in.Features, err)
		}
	case needN:
		return nil, pool, fmt.Errorf("method %s needs per-example gradient norms (an [N] .npy)", method)
	}
	if v := need.Vector; v != "" {
		if store == nil {
			return nil, pool, fmt.Errorf("method %s needs the reference model's per-example %s from a feature store (features: a store folder)", method, v)
		}
		vals, err := store.Vector(v)
		if err != nil {
			return nil, pool, fmt.Errorf("%s: %v", in.Features, err)
		}
		if v == "loss" {
			pool.Loss = vals
		} else {
			pool.EL2N = vals
		}
	}
	if need.Validation {
		if in.Validation == "" {
			return nil, pool, fmt.Errorf("method %s needs validation gradient features", method)
		}
		vst, err := grad.OpenStore(in.Validation, true)
		if err != nil {
			return nil, pool, err
		}
		b, err := os.ReadFile(filepath.Join(in.Validation, "groups.json"))
		if err == nil {
			err = json.Unmarshal(b, &pool.ValidationGroups)
		}
		if err != nil {
			return nil, pool, fmt.Errorf("%s: groups.json: %v", in.Validation, err)
		}
		pool.Validation = vst
	}
	if pool.Norms != nil && len(pool.Norms) != len(recs) {
		return nil, pool, fmt.Errorf("%s has %d norms but %s has %d records", in.Norms, len(pool.Norms), in.Records, len(recs))
	}
	return recs, pool, nil
}

// RunSelect loads the pool, selects, and writes the outputs. Nothing is
// written unless the selection succeeds; each output is replaced atomically.
func RunSelect(in SelectFiles, opt selection.Options, out SelectOutputs, workers int) (*selection.Result, error) {
	recs, pool, err := LoadPool(in, opt.Method, workers)
	if err != nil {
		return nil, err
	}
	res, err := selection.Select(pool, opt)
	if err != nil {
		return nil, in.name(err)
	}
	if err := WriteSelection(recs, pool, res, out); err != nil {
		return nil, err
	}
	return res, nil
}

// ScoreLine is one line of a scores file.
type ScoreLine struct {
	Index     int      `json:"index"`
	ID        string   `json:"id"`
	Task      string   `json:"task"`
	Influence *float64 `json:"influence"`
	Norm      *float64 `json:"norm"`
	Selected  int      `json:"selected"`
}

// WriteSelection writes a selection's subset, scores and task files.
func WriteSelection(recs []data.Record, pool selection.Pool, res *selection.Result, out SelectOutputs) error {
	if out.Subset != "" {
		if err := data.WriteJSON(out.Subset, recs, res.Order); err != nil {
			return err
		}
	}
	if out.Scores != "" {
		err := atomic.Write(out.Scores, 0o644, func(w io.Writer) error {
			enc := json.NewEncoder(w)
			for i := range recs {
				l := ScoreLine{Index: i, ID: recs[i].ID, Task: recs[i].Task, Selected: res.Count[i]}
				if res.Influence != nil {
					l.Influence = finite(res.Influence[i])
				}
				if pool.Norms != nil {
					l.Norm = finite(pool.Norms[i])
				}
				if err := enc.Encode(l); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	if out.Tasks != "" {
		b, _ := json.MarshalIndent(res.Tasks, "", "  ")
		if err := atomic.WriteFile(out.Tasks, append(b, '\n'), 0o644); err != nil {
			return err
		}
	}
	return nil
}

func finite(v float64) *float64 {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return nil
	}
	return &v
}

// ReadScores reads a scores file back (for tests and reports).
func ReadScores(path string) ([]ScoreLine, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []ScoreLine
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for ln := 1; sc.Scan(); ln++ {
		var l ScoreLine
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
			return nil, fmt.Errorf("%s:%d: %v", path, ln, err)
		}
		out = append(out, l)
	}
	return out, sc.Err()
}
