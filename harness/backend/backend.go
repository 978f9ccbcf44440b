// Package backend runs the model-dependent work of a study (training,
// gradient features, prediction) behind one small interface, Backend, so
// that the same stages drive the built-in model in process (Builtin) or a
// worker process speaking the JSON-lines protocol of protocol.go (External:
// `tive worker`, or the PyTorch/LLaVA worker under scripts/worker).
//
// Requests name files, never carry data: a model folder in and out, a
// LLaVA records file, an image root, a feature-store folder, question and
// answer files. Every output file is written atomically (temp file, rename)
// and a checkpoint or feature shard counts only once its manifest, written
// last, is there; so a request that fails or is killed leaves no partial
// file, and repeating a request is always safe.
package backend

import (
	"context"
	"encoding/json"

	"github.com/tive-dev/tive/harness/grad"
	"github.com/tive-dev/tive/harness/model"
)

// Backend trains models, extracts per-example gradient features and answers
// benchmark questions. Each method blocks until its outputs are complete
// and reports progress (done of total units) through progress, which may be
// nil. Outcomes:
//   - nil: every output named by the request exists and is whole;
//   - ctx's error: cancelled; outputs already complete (whole feature
//     shards, a finished checkpoint) stay and a repeat resumes from them;
//   - *Error (External only): the worker crashed, hung, spoke another
//     protocol version, wrote a bad shard or reported a failure (Kind says which);
//   - any other error: the request or its input files are invalid.
type Backend interface {
	Train(ctx context.Context, req TrainRequest, progress Progress) (*TrainResult, error)
	Features(ctx context.Context, req FeaturesRequest, progress Progress) (*FeaturesResult, error)
	Predict(ctx context.Context, req PredictRequest, progress Progress) (*PredictResult, error)
}

// Progress receives done of total units of work (training steps, records).
type Progress func(done, total int)

// TrainRequest fine-tunes the model in ModelIn on Records and saves it to
// ModelOut (for Builtin: a model.Save folder, model/ of the pretrain and
// reference stages).
type TrainRequest struct {
	ModelIn   string `json:"model_in"`   // checkpoint folder to start from
	ModelOut  string `json:"model_out"`  // folder the trained checkpoint is saved to (created)
	Records   string `json:"records"`    // LLaVA JSON list or JSON lines
	ImageRoot string `json:"image_root"` // record image paths are relative to it
	// TowerTokens, when set, is a model.TowerTokens file of the model's
	// frozen tower (the tokens stage): Builtin reads images' tower outputs
	// from it instead of running the tower. Workers may ignore it.
	TowerTokens string `json:"tower_tokens,omitempty"`
	// LoRA, when set, attaches fresh adapters (seeded by Seed) before
	// training; nil trains what ModelIn has (its adapters, if any).
	LoRA  *model.LoRAConfig `json:"lora,omitempty"`
	Train model.TrainConfig `json:"train"` // its Seed is replaced by Seed
	Seed  uint64            `json:"seed"`
	// CheckpointDir, when set, makes training resumable: checkpoints go
	// there and a repeated request continues from the newest one.
	CheckpointDir string `json:"checkpoint_dir,omitempty"`
	// Meta is stored as is in the saved manifest's meta (provenance).
	Meta json.RawMessage `json:"meta,omitempty"`
	// SaveOptimizer also saves the optimizer's final state in ModelOut
	// (model.SaveOptimizer), for Adam gradient features.
	SaveOptimizer bool `json:"save_optimizer,omitempty"`
}

// TrainResult summarises a training request.
type TrainResult struct {
	Steps   int       `json:"steps"`   // optimizer steps of the whole run
	Resumed int       `json:"resumed"` // steps restored from CheckpointDir
	Losses  []float64 `json:"losses"`  // mean response-token loss of each step run
}

// FeaturesRequest computes the gradient features (DESIGN.md section 2 step
// 3) of records [Start, End) of Records into the sharded feature store Out
// (package grad): shards [Start+k·ShardSize, min(Start+(k+1)·ShardSize,
// End)), each with projected features and the vectors norms (unprojected
// L2 norm), loss and el2n. Shards already whole in Out with the same
// projector identity are kept (resume). End 0 means the whole file. Job
// arrays give each task a Start that is a multiple of ShardSize, so their
// shards together are the single-process layout.
type FeaturesRequest struct {
	Model       string             `json:"model"`
	Records     string             `json:"records"`
	ImageRoot   string             `json:"image_root"`
	TowerTokens string             `json:"tower_tokens,omitempty"` // as TrainRequest's
	Params      model.ParamSet     `json:"params,omitempty"`       // "" = lora-attn (TIVE)
	Projector   grad.ProjectorSpec `json:"projector"`
	// Precondition "adam" projects LESS's Adam gradient features
	// (grad.Config.Adam) with the optimizer state saved beside Model; ""
	// projects the plain gradients.
	Precondition string `json:"precondition,omitempty"`
	BatchSize    int    `json:"batch_size,omitempty"`
	ShardSize    int    `json:"shard_size"`
	Start        int    `json:"start"`
	End          int    `json:"end,omitempty"`
	Out          string `json:"out"`
}

// FeaturesResult lists the shards of the requested range.
type FeaturesResult struct {
	Projector grad.ProjectorID `json:"projector"`
	Records   int              `json:"records"` // N of the whole pool
	Shards    []string         `json:"shards"`  // manifest file names, in row order
	Reused    int              `json:"reused"`  // shards found whole and kept
}

// PredictRequest answers the questions of a LLaVA question file (JSON
// lines: question_id, image, text) greedily and writes a LLaVA answer file
// (JSON lines: question_id, prompt, text, answer_id, model_id, metadata),
// one line per question in question order.
type PredictRequest struct {
	Model        string `json:"model"`
	Questions    string `json:"questions"`
	ImageRoot    string `json:"image_root"`
	TowerTokens  string `json:"tower_tokens,omitempty"` // as TrainRequest's
	Answers      string `json:"answers"`
	MaxNewTokens int    `json:"max_new_tokens,omitempty"` // 0: 32
	ModelID      string `json:"model_id,omitempty"`       // written in every answer line
}

// PredictResult counts the answers written.
type PredictResult struct {
	Answers int `json:"answers"`
}
