package pipeline

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/tive-dev/tive/harness/internal/kernels"
	"github.com/tive-dev/tive/harness/model"
	"github.com/tive-dev/tive/harness/store"
)

// Stage is one kind of step of a study. Later stages (world, pretrain,
// reference, features, train, predict, score) register themselves the same way.
type Stage struct {
	Name string
	// Version is the stage's code version: change it whenever the outputs
	// for the same parameters and inputs change, so cached outputs are not reused.
	Version string
	// Arith marks stages whose outputs depend on how float32 matrix products
	// round (the model's training, decoding and gradients): their key names
	// the product back end (Arith()), so that results of OpenBLAS and
	// pure-Go builds never share a cache entry.
	Arith bool
	// Run computes the stage's outputs into c.Out.
	Run func(ctx context.Context, c *Call) error
	// Resumable stages find in c.Out what an interrupted attempt wrote (for
	// example complete feature shards) and continue from there.
	Resumable bool
	// Sharded stages split their work into Call.Tasks parts (job-array
	// tasks on a cluster), each writing its own files into c.Out.
	Sharded bool
	// Check, when set, verifies c.Out is whole before the commit (for
	// example that feature shards cover every record and match their
	// checksums), whoever wrote it.
	Check func(c *Call) error
}

var stages = map[string]*Stage{}

// Register adds a stage kind; it panics on a duplicate name (a programming error).
func Register(s *Stage) {
	if _, dup := stages[s.Name]; dup {
		panic("pipeline: stage registered twice: " + s.Name)
	}
	stages[s.Name] = s
}

// Lookup is the registered stage kind of that name, or nil.
func Lookup(name string) *Stage { return stages[name] }

// StageNames lists the registered stage kinds.
func StageNames() []string {
	var out []string
	for n := range stages {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// Call is one invocation of a stage.
type Call struct {
	Params  json.RawMessage   // resolved parameters, canonical JSON
	Seed    uint64            // the stage's seed (seeds.Derive(root, stage name))
	Inputs  map[string]string // input name -> upstream output folder or external file
	Out     string            // folder the stage writes its outputs into
	Workers int               // goroutines the stage may use (0: all cores)
	// Task of Tasks: the part of a sharded stage's work this call does
	// (0 of 1 outside job arrays).
	Task, Tasks int
	// Progress reports done of total units of work (may be nil).
	Progress func(done, total int)
	// Runtime holds settings that do not change the outputs (an external
	// worker's timeout and retries): not part of the key.
	Runtime json.RawMessage
	// Log receives diagnostics, e.g. an external worker's stderr (may be nil).
	Log io.Writer
	// Hook, when set (by crash tests), is called at named points of the
	// stage's work ("shard-written:features").
	Hook func(point string)
}

// At calls c.Hook at point, if it is set.
func (c *Call) At(point string) {
	if c.Hook != nil {
		c.Hook(point)
	}
}

// Decode unmarshals the parameters into v.
func (c *Call) Decode(v any) error { return json.Unmarshal(c.Params, v) }

// Node is a planned stage invocation.
type Node struct {
	Stage  string
	Params any // JSON-marshalable; its canonical JSON is part of the key
	Seed   uint64
	Inputs map[string]Ref
	Label  string // for progress lines, e.g. "selection.method=tive seed=0"
	// Runtime is passed to the stage as Call.Runtime; not part of the key.
	Runtime any

	key      string
	inputIDs map[string]string
}

// Ref is an input of a node: the output folder of another node (or File
// inside it, when File is set), or an external file or folder.
type Ref struct {
	Node *Node
	File string
}

// Key returns the node's key (computed by Keys).
func (n *Node) Key() string { return n.key }

func (n *Node) String() string {
	if n.Label == "" {
		return n.Stage
	}
	return n.Stage + " (" + n.Label + ")"
}

// Arith names the float32 arithmetic of this binary as stage keys and jobs
// record it: the back end ("gonum", or "openblas VERSION KERNEL") and the
// model's numerics version, as "openblas 0.3.21 Haswell, numerics 2".
func Arith() string { return kernels.Backend() + ", numerics " + model.Numerics }

// canonical returns the canonical JSON of params: encoding/json sorts map
// keys and struct fields have a fixed order.
func canonical(v any) (json.RawMessage, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	return b, nil
}

// Keys computes the key of each node of a run's plan, in order (upstream
// nodes first, as a planner lists them); s hashes the external files they
// read.
func Keys(s *store.Store, nodes []*Node) error {
	for _, n := range nodes {
		key, ids, err := computeKey(s, n)
		if err != nil {
			return err
		}
		n.key, n.inputIDs = key, ids
	}
	return nil
}

// computeKey derives a node's key; upstream keys must already be computed.
func computeKey(s *store.Store, n *Node) (string, map[string]string, error) {
	st, ok := stages[n.Stage]
	if !ok {
		return "", nil, fmt.Errorf("unknown stage %q (registered: %s)", n.Stage, strings.Join(StageNames(), ", "))
	}
	params, err := canonical(n.Params)
	if err != nil {
		return "", nil, err
	}
	inputs := map[string]string{}
	names := make([]string, 0, len(n.Inputs))
	for name := range n.Inputs {
		names = append(names, name)
	}
	sort.Strings(names)
	var b strings.Builder
	fmt.Fprintf(&b, "tive-stage/1\nstage %s\nversion %s\nseed %d\nparams %s\n", st.Name, st.Version, n.Seed, params)
	if st.Arith {
		fmt.Fprintf(&b, "arith %s\n", Arith())
	}
	for _, name := range names {
		r := n.Inputs[name]
		var id string
		if r.Node != nil {
			id = r.Node.key
			if r.File != "" {
				id += "/" + r.File
			}
		} else {
			sum, err := s.FileHash(r.File)
			if err != nil {
				return "", nil, fmt.Errorf("%s: input %s: %v", n, name, err)
			}
			id = "sha256:" + sum + " " + r.File
			sum = "sha256:" + sum
			fmt.Fprintf(&b, "input %s %s\n", name, sum)
			inputs[name] = id
			continue
		}
		fmt.Fprintf(&b, "input %s %s\n", name, id)
		inputs[name] = id
	}
	return hashString(b.String()), inputs, nil
}
