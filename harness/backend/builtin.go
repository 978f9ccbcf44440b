package backend

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"time"

	"github.com/tive-dev/tive/harness/atomic"
	"github.com/tive-dev/tive/harness/data"
	"github.com/tive-dev/tive/harness/grad"
	"github.com/tive-dev/tive/harness/model"
)

// Builtin runs the built-in model (harness/model, harness/grad) in this
// process, exactly as the pipeline's reference and features stages do, so
// its outputs are byte-identical to theirs for the same inputs.
type Builtin struct {
	// ShardDone, when set, is called after each feature shard [start, end)
	// is written (not for shards found whole), e.g. for a test's kill point.
	ShardDone func(start, end int)
}

// load loads the model saved in dir, reading its tower's outputs from the
// TowerTokens file tokens when one is named.
func load(dir, tokens string) (*model.Model, error) {
	m, err := model.Load(dir)
	if err != nil || tokens == "" {
		return m, err
	}
	t, err := loadTokens(tokens)
	if err != nil {
		return nil, err
	}
	if err := m.UseTowerTokens(t); err != nil {
		return nil, fmt.Errorf("%s: %w", dir, err)
	}
	return m, nil
}

// lastTokens is the TowerTokens file loadTokens read last, and when (its
// path, size and modification time).
var lastTokens struct {
	sync.Mutex
	path    string
	size    int64
	modTime time.Time
	t       *model.TowerTokens
}

// loadTokens is model.LoadTowerTokens of path, kept for the next call while
// the file's size and modification time stay the same. A run's train,
// features and predict stages all read their world's file (the tokens
// stage's output, 116 MB on the quick world): in one process it is read
// once, not once a stage. TowerTokens are read-only once loaded, so the
// stages share one.
func loadTokens(path string) (*model.TowerTokens, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	lastTokens.Lock()
	defer lastTokens.Unlock()
	if lastTokens.t != nil && lastTokens.path == path && lastTokens.size == fi.Size() && lastTokens.modTime.Equal(fi.ModTime()) {
		return lastTokens.t, nil
	}
	t, err := model.LoadTowerTokens(path)
	if err != nil {
		return nil, err
	}
	lastTokens.path, lastTokens.size, lastTokens.modTime, lastTokens.t = path, fi.Size(), fi.ModTime(), t
	return t, nil
}

// Train loads ModelIn, attaches LoRA when asked, trains with model.Train
// and saves the result to ModelOut.
func (Builtin) Train(ctx context.Context, req TrainRequest, progress Progress) (*TrainResult, error) {
	m, err := load(req.ModelIn, req.TowerTokens)
	if err != nil {
		return nil, err
	}
	if req.LoRA != nil {
		if err := m.AttachLoRA(*req.LoRA, req.Seed); err != nil {
			return nil, err
		}
	}
	recs, err := data.Load(req.Records)
	if err != nil {
		return nil, err
	}
	tc := req.Train
	tc.Seed = req.Seed
	tc.CheckpointDir = req.CheckpointDir
	res, err := model.Train(ctx, m, recs, model.DirImages{Root: req.ImageRoot}, tc, progress)
	if err != nil {
		return nil, err
	}
	var meta any
	if len(req.Meta) > 0 {
		meta = req.Meta
	}
	if req.SaveOptimizer {
		if err := model.SaveOptimizer(req.ModelOut, m, res.Optimizer); err != nil {
			return nil, err
		}
	}
	if err := model.Save(req.ModelOut, m, meta); err != nil {
		return nil, err
	}
	return &TrainResult{Steps: res.Steps, Resumed: res.Resumed, Losses: res.Losses}, nil
}

// Features extracts the shards of the requested range with grad.Extract,
// skipping shards already whole in Out.
func (b Builtin) Features(ctx context.Context, req FeaturesRequest, progress Progress) (*FeaturesResult, error) {
	m, err := load(req.Model, req.TowerTokens)
	if err != nil {
		return nil, err
	}
	recs, err := data.Load(req.Records)
	if err != nil {
		return nil, err
	}
	start, end, err := req.rows(len(recs))
	if err != nil {
		return nil, err
	}
	cfg := grad.Config{Params: req.Params, Projectors: []grad.ProjectorSpec{req.Projector}, BatchSize: req.BatchSize}
	switch req.Precondition {
	case "":
	case "adam":
		if cfg.Adam, err = model.LoadOptimizer(req.Model); err != nil {
			return nil, fmt.Errorf("features: precondition adam needs the reference run's optimizer state: %w", err)
		}
	default:
		return nil, fmt.Errorf("features: unknown precondition %q (want adam, or empty for plain gradients)", req.Precondition)
	}
	ps, err := grad.Projectors(m, cfg)
	if err != nil {
		return nil, err
	}
	res := &FeaturesResult{Projector: ps[0].ID(), Records: len(recs)}
	for lo := start; lo < end; lo += req.ShardSize {
		res.Shards = append(res.Shards, grad.ShardName(lo, min(end, lo+req.ShardSize)))
	}
	res.Reused, err = grad.WriteShards(ctx, m, recs, model.DirImages{Root: req.ImageRoot}, cfg, []string{req.Out},
		grad.ShardOptions{Size: req.ShardSize, Start: start, End: end, Progress: progress, Written: b.ShardDone})
	if err != nil {
		return nil, err
	}
	return res, nil
}

// rows checks the request's range against a pool of n records.
func (req FeaturesRequest) rows(n int) (start, end int, err error) {
	start, end = req.Start, req.End
	if end == 0 {
		end = n
	}
	switch {
	case req.ShardSize <= 0:
		return 0, 0, fmt.Errorf("features: shard_size must be positive, got %d", req.ShardSize)
	case start < 0 || start >= end || end > n:
		return 0, 0, fmt.Errorf("features: rows [%d, %d) are not a range of the %d records of %s", req.Start, req.End, n, req.Records)
	}
	return start, end, nil
}

// Question is one line of a LLaVA question file; QuestionID is kept as
// written (number or string) and echoed in the answer.
type Question struct {
	QuestionID json.RawMessage `json:"question_id"`
	Image      string          `json:"image,omitempty"`
	Text       string          `json:"text"`
}

// Answer is one line of a LLaVA answer file (model_vqa_loader format).
// AnswerID is the question's 0-based line number in the question file
// (LLaVA draws a random shortuuid; ours is reproducible).
type Answer struct {
	QuestionID json.RawMessage `json:"question_id"`
	Prompt     string          `json:"prompt"`
	Text       string          `json:"text"`
	AnswerID   string          `json:"answer_id"`
	ModelID    string          `json:"model_id"`
	Metadata   struct{}        `json:"metadata"`
}

// ReadQuestions reads a LLaVA question file: JSON lines, each with a
// question_id and a text; blank lines are skipped.
func ReadQuestions(path string) ([]Question, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var qs []Question
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(nil, 64<<20)
	for line := 1; sc.Scan(); line++ {
		l := bytes.TrimSpace(sc.Bytes())
		if len(l) == 0 {
			continue
		}
		var q Question
		if err := json.Unmarshal(l, &q); err != nil {
			return nil, fmt.Errorf("%s:%d: %v", path, line, err)
		}
		if len(q.QuestionID) == 0 || string(q.QuestionID) == "null" {
			return nil, fmt.Errorf(`%s:%d: missing "question_id"`, path, line)
		}
		qs = append(qs, q)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s: %v", path, err)
	}
	if len(qs) == 0 {
		return nil, fmt.Errorf("%s: no questions", path)
	}
	return qs, nil
}

// WriteAnswers writes answers as JSON lines, atomically.
func WriteAnswers(path string, answers []Answer) error {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	for i := range answers {
		if err := enc.Encode(&answers[i]); err != nil {
			return err
		}
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	return atomic.WriteFile(path, b.Bytes(), 0o644)
}

// Predict decodes every question greedily with model.Generate.
func (Builtin) Predict(ctx context.Context, req PredictRequest, progress Progress) (*PredictResult, error) {
	if req.Answers == "" {
		return nil, errors.New("predict: no answers file named")
	}
	m, err := load(req.Model, req.TowerTokens)
	if err != nil {
		return nil, err
	}
	qs, err := ReadQuestions(req.Questions)
	if err != nil {
		return nil, err
	}
	maxNew := req.MaxNewTokens
	if maxNew == 0 {
		maxNew = 32
	}
	prompts := make([]model.Prompt, len(qs))
	for i, q := range qs {
		prompts[i] = model.Prompt{Image: q.Image, Text: q.Text}
	}
	if progress != nil {
		progress(0, len(qs))
	}
	texts, err := model.Generate(ctx, m, prompts, model.DirImages{Root: req.ImageRoot}, maxNew)
	if err != nil {
		return nil, err
	}
	ans := make([]Answer, len(qs))
	for i, q := range qs {
		ans[i] = Answer{QuestionID: q.QuestionID, Prompt: q.Text, Text: texts[i], AnswerID: strconv.Itoa(i), ModelID: req.ModelID}
	}
	if err := WriteAnswers(req.Answers, ans); err != nil {
		return nil, err
	}
	if progress != nil {
		progress(len(qs), len(qs))
	}
	return &PredictResult{Answers: len(ans)}, nil
}
