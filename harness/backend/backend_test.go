package backend

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/tive-dev/tive/harness/grad"
	"github.com/tive-dev/tive/harness/model"
)

// TestMain lets the test binary act as a worker (TIVE_BACKEND_WORKER=MODE):
// "ok" serves Builtin; "crash", "hang", "truncate" misbehave during every
// op, or only during the first one when TIVE_BACKEND_MARKER names a file
// that does not exist yet; "version" speaks protocol 2; "garbage" answers
// with a line that is not JSON.
func TestMain(m *testing.M) {
	if mode := os.Getenv("TIVE_BACKEND_WORKER"); mode != "" {
		os.Exit(fakeWorker(mode))
	}
	os.Exit(m.Run())
}

func fakeWorker(mode string) int {
	switch mode {
	case "version":
		fmt.Println(`{"v":2,"id":"0","type":"result","result":{"protocol":2,"worker":"future","ops":["train"]}}`)
		return 0
	case "garbage":
		fmt.Println("Traceback (most recent call last): oops")
		return 0
	}
	var b Backend = Builtin{}
	if mode != "ok" {
		b = faulty{mode: mode, marker: os.Getenv("TIVE_BACKEND_MARKER")}
	}
	if err := Serve(context.Background(), b, "test-"+mode, os.Stdin, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return 0
}

// faulty is Builtin with one fault injected into every op (or the first
// one only, when marker is set).
type faulty struct {
	Builtin
	mode, marker string
}

// fault reports whether this op misbehaves, and misbehaves when it is a
// crash or a hang.
func (f faulty) fault(progress Progress) bool {
	if f.marker != "" {
		if _, err := os.Stat(f.marker); err == nil {
			return false
		}
		os.WriteFile(f.marker, nil, 0o644)
	}
	switch f.mode {
	case "crash":
		progress(0, 1)
		fmt.Fprintln(os.Stderr, "fake worker: segmentation fault")
		os.Exit(3)
	case "hang":
		time.Sleep(time.Hour)
	}
	return true
}

func (f faulty) Train(ctx context.Context, req TrainRequest, progress Progress) (*TrainResult, error) {
	f.fault(progress)
	return f.Builtin.Train(ctx, req, progress)
}

func (f faulty) Features(ctx context.Context, req FeaturesRequest, progress Progress) (*FeaturesResult, error) {
	bad := f.fault(progress)
	res, err := f.Builtin.Features(ctx, req, progress)
	if err == nil && bad && f.mode == "truncate" {
		p := filepath.Join(req.Out, strings.TrimSuffix(res.Shards[0], ".json")+".features.npy")
		st, _ := os.Stat(p)
		os.Truncate(p, st.Size()-8)
	}
	return res, err
}

// pool is a small on-disk study: images, records, questions, a base model
// and a reference model (LoRA, trained in process).
type pool struct {
	dir, images, records, questions, base, ref string
}

var testCfg = model.Config{ImageSize: 32, PatchSize: 16, Width: 16, Heads: 2, Layers: 1, VisionLayers: 1, MLPRatio: 2, MaxLen: 64}

func newPool(t *testing.T, n int) *pool {
	t.Helper()
	dir := t.TempDir()
	p := &pool{dir: dir, images: filepath.Join(dir, "images"), records: filepath.Join(dir, "records.json"),
		questions: filepath.Join(dir, "questions.jsonl"), base: filepath.Join(dir, "base"), ref: filepath.Join(dir, "ref")}
	recs, imgs := model.Synthetic(n, 7)
	type turn struct {
		From  string `json:"from"`
		Value string `json:"value"`
	}
	type rec struct {
		ID            string `json:"id"`
		Image         string `json:"image"`
		Conversations []turn `json:"conversations"`
		Dataset       string `json:"dataset"`
	}
	var out []rec
	var qs bytes.Buffer
	for i, r := range recs {
		img, _ := imgs.Image(r.Image)
		if err := os.MkdirAll(filepath.Dir(filepath.Join(p.images, r.Image)), 0o755); err != nil {
			t.Fatal(err)
		}
		f, err := os.Create(filepath.Join(p.images, r.Image))
		if err != nil {
			t.Fatal(err)
		}
		if err := png.Encode(f, img); err != nil {
			t.Fatal(err)
		}
		f.Close()
		x := rec{ID: r.ID, Image: r.Image, Dataset: r.Dataset}
		for _, c := range r.Conversations {
			x.Conversations = append(x.Conversations, turn{c.From, c.Value})
		}
		out = append(out, x)
		q, _ := json.Marshal(map[string]any{"question_id": i, "image": r.Image, "text": r.Conversations[0].Value})
		qs.Write(append(q, '\n'))
	}
	b, _ := json.Marshal(out)
	if err := os.WriteFile(p.records, b, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p.questions, qs.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	m, err := model.New(testCfg, model.BuildVocab(recs, 1), 3)
	if err != nil {
		t.Fatal(err)
	}
	if err := model.Save(p.base, m, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := (Builtin{}).Train(context.Background(), p.trainReq(p.ref), nil); err != nil {
		t.Fatal(err)
	}
	return p
}

func (p *pool) trainReq(out string) TrainRequest {
	return TrainRequest{ModelIn: p.base, ModelOut: out, Records: p.records, ImageRoot: p.images,
		LoRA: &model.LoRAConfig{Rank: 2, Alpha: 4, Dropout: 0.05}, Train: model.TrainConfig{Epochs: 1, BatchSize: 8},
		Seed: 11, Meta: json.RawMessage(`{"stage":"reference","seed":11}`)}
}

func (p *pool) featReq(out string) FeaturesRequest {
	return FeaturesRequest{Model: p.ref, Records: p.records, ImageRoot: p.images,
		Projector: grad.ProjectorSpec{Kind: "rademacher", Seed: 5, Dim: 16}, BatchSize: 4, ShardSize: 6, Out: out}
}

// self is an External running this test binary in the given mode.
func self(mode string, env ...string) *External {
	return &External{Argv: []string{os.Args[0], "-test.run=^$"}, Env: append([]string{"TIVE_BACKEND_WORKER=" + mode}, env...), Timeout: time.Minute}
}

// sameFiles fails unless folders a and b hold the same files with the same
// bytes (set-aside shard manifests, *.bad, aside).
func sameFiles(t *testing.T, a, b string) {
	t.Helper()
	list := func(dir string) map[string][]byte {
		out := map[string][]byte{}
		filepath.Walk(dir, func(p string, fi os.FileInfo, err error) error {
			if err == nil && !fi.IsDir() && !strings.HasSuffix(p, ".bad") {
				rel, _ := filepath.Rel(dir, p)
				out[rel], _ = os.ReadFile(p)
			}
			return nil
		})
		return out
	}
	fa, fb := list(a), list(b)
	if len(fa) == 0 || len(fa) != len(fb) {
		t.Fatalf("%s has %d files, %s has %d", a, len(fa), b, len(fb))
	}
	for name, x := range fa {
		if y, ok := fb[name]; !ok || !bytes.Equal(x, y) {
			t.Errorf("%s differs between %s and %s", name, a, b)
		}
	}
}

// TestExternalSameBytes: the builtin backend behind the protocol, in a
// child process, writes the same bytes as in process.
func TestExternalSameBytes(t *testing.T) {
	p := newPool(t, 20)
	ctx := context.Background()
	x := self("ok")
	ref2 := filepath.Join(p.dir, "ref2")
	var steps []int
	res, err := x.Train(ctx, p.trainReq(ref2), func(done, total int) { steps = append(steps, done) })
	if err != nil {
		t.Fatal(err)
	}
	if res.Steps != 3 || len(res.Losses) != 3 || len(steps) != 3 {
		t.Errorf("train result %+v, progress %v; want 3 steps", res, steps)
	}
	sameFiles(t, p.ref, ref2)

	in, ext := filepath.Join(p.dir, "feat-in"), filepath.Join(p.dir, "feat-ext")
	if _, err := (Builtin{}).Features(ctx, p.featReq(in), nil); err != nil {
		t.Fatal(err)
	}
	fr, err := x.Features(ctx, p.featReq(ext), nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(fr.Shards) != 4 || fr.Records != 20 || fr.Projector.Dim != 16 {
		t.Errorf("features result %+v", fr)
	}
	sameFiles(t, in, ext)

	// Two array tasks, rows [0, 12) and [12, 20), give the same store.
	split := filepath.Join(p.dir, "feat-split")
	for _, r := range [][2]int{{12, 20}, {0, 12}} {
		req := p.featReq(split)
		req.Start, req.End = r[0], r[1]
		if _, err := x.Features(ctx, req, nil); err != nil {
			t.Fatal(err)
		}
	}
	sameFiles(t, in, split)

	ain, aext := filepath.Join(p.dir, "ans-in", "a.jsonl"), filepath.Join(p.dir, "ans-ext", "a.jsonl")
	preq := PredictRequest{Model: p.ref, Questions: p.questions, ImageRoot: p.images, MaxNewTokens: 4, ModelID: "ref"}
	preq.Answers = ain
	if _, err := (Builtin{}).Predict(ctx, preq, nil); err != nil {
		t.Fatal(err)
	}
	preq.Answers = aext
	pr, err := x.Predict(ctx, preq, nil)
	if err != nil {
		t.Fatal(err)
	}
	if pr.Answers != 20 {
		t.Errorf("%d answers, want 20", pr.Answers)
	}
	sameFiles(t, filepath.Dir(ain), filepath.Dir(aext))
}

// TestExternalFaults: each way a worker can fail is named, retried when
// that is safe, and never leaves a bad shard to merge.
func TestExternalFaults(t *testing.T) {
	p := newPool(t, 12)
	ctx := context.Background()
	in := filepath.Join(p.dir, "feat-in")
	if _, err := (Builtin{}).Features(ctx, p.featReq(in), nil); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		mode    string
		once    bool
		retries int
		want    Kind // 0: success
		msg     string
	}{
		{mode: "crash", want: KindCrash, msg: "exit status 3"},
		{mode: "crash", once: true, retries: 1},
		{mode: "hang", want: KindTimeout, msg: "killed"},
		{mode: "hang", once: true, retries: 2},
		{mode: "version", want: KindVersion, msg: "protocol version 2"},
		{mode: "garbage", want: KindProtocol, msg: "Traceback"},
		{mode: "truncate", want: KindBadShard, msg: "shard-000000000-000000006.json"},
		{mode: "truncate", retries: 1, want: KindBadShard, msg: "after 2 attempts"},
		{mode: "truncate", once: true, retries: 1},
	} {
		name := fmt.Sprintf("%s/once=%v/retries=%d", tc.mode, tc.once, tc.retries)
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			var env []string
			if tc.once {
				env = append(env, "TIVE_BACKEND_MARKER="+filepath.Join(dir, "marker"))
			}
			x := self(tc.mode, env...)
			x.Retries = tc.retries
			if tc.mode == "hang" {
				x.Timeout = 3 * time.Second
			}
			out := filepath.Join(dir, "store")
			_, err := x.Features(ctx, p.featReq(out), nil)
			if tc.want == 0 {
				if err != nil {
					t.Fatal(err)
				}
				sameFiles(t, in, out)
				if _, err := grad.OpenStore(out, true); err != nil {
					t.Error(err)
				}
				return
			}
			if !IsKind(err, tc.want) || !strings.Contains(err.Error(), tc.msg) {
				t.Fatalf("error %v, want kind %q mentioning %q", err, tc.want, tc.msg)
			}
			if _, err := grad.OpenStore(out, false); err == nil {
				t.Error("the store of a failed worker opens for a merge")
			}
			if tc.mode == "truncate" {
				if _, err := os.Stat(filepath.Join(out, grad.ShardName(0, 6)+".bad")); err != nil {
					t.Errorf("bad shard not set aside: %v", err)
				}
			}
		})
	}
}

func TestExternalStartFailure(t *testing.T) {
	p := newPool(t, 4)
	x := &External{Argv: []string{filepath.Join(p.dir, "no-such-worker")}}
	_, err := x.Predict(context.Background(), PredictRequest{Model: p.ref, Questions: p.questions, Answers: filepath.Join(p.dir, "a.jsonl")}, nil)
	if !IsKind(err, KindStart) {
		t.Fatalf("error %v, want %q", err, KindStart)
	}
}

// TestServeBadRequests: requests a worker cannot serve get error lines and
// the worker goes on serving.
func TestServeBadRequests(t *testing.T) {
	in := strings.Join([]string{
		`{"v":2,"id":"a","op":"hello"}`,
		`not json`,
		`{"v":1,"id":"b","op":"dance"}`,
		`{"v":1,"id":"c","op":"features"}`,
		`{"v":1,"id":"d","op":"hello"}`,
	}, "\n")
	var out bytes.Buffer
	if err := Serve(context.Background(), Builtin{}, "w", strings.NewReader(in), &out); err != nil {
		t.Fatal(err)
	}
	want := []string{
		`{"v":1,"id":"a","type":"error","error":"protocol version 2 is not spoken here (this worker speaks 1)"}`,
		`{"v":1,"id":"","type":"error","error":"malformed request: invalid character 'o' in literal null (expecting 'u')"}`,
		`{"v":1,"id":"b","type":"error","error":"unknown op \"dance\" (want hello, train, features or predict)"}`,
		`{"v":1,"id":"c","type":"error","error":"features: no args"}`,
		`{"v":1,"id":"d","type":"result","result":{"protocol":1,"worker":"w","ops":["train","features","predict"]}}`,
	}
	got := strings.Split(strings.TrimSpace(out.String()), "\n")
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("responses:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestVerifyShards(t *testing.T) {
	p := newPool(t, 12)
	dir := filepath.Join(p.dir, "store")
	var written [][2]int
	b := Builtin{ShardDone: func(start, end int) { written = append(written, [2]int{start, end}) }}
	res, err := b.Features(context.Background(), p.featReq(dir), nil)
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(written) != "[[0 6] [6 12]]" {
		t.Errorf("ShardDone calls %v, want [[0 6] [6 12]]", written)
	}
	if _, err := b.Features(context.Background(), p.featReq(dir), nil); err != nil || len(written) != 2 {
		t.Errorf("repeat: %v, ShardDone calls %v; want no new shard", err, written)
	}
	id := res.Projector
	if err := VerifyShards(dir, id, 12, 0, 12, 6); err != nil {
		t.Fatal(err)
	}
	other := id
	other.Seed++
	for _, tc := range []struct {
		name                         string
		id                           grad.ProjectorID
		records, start, end, shardSz int
		msg                          string
	}{
		{"other projector", other, 12, 0, 12, 6, "projector"},
		{"other layout", id, 12, 0, 12, 4, "shard-000000000-000000004.json: missing"},
		{"other pool", id, 13, 0, 12, 6, "rows [0, 6) of 12, want [0, 6) of 13"},
	} {
		if err := VerifyShards(dir, tc.id, tc.records, tc.start, tc.end, tc.shardSz); err == nil || !strings.Contains(err.Error(), tc.msg) {
			t.Errorf("%s: error %v, want one mentioning %q", tc.name, err, tc.msg)
		}
	}
	f := filepath.Join(dir, "shard-000000006-000000012.norms.npy")
	buf, _ := os.ReadFile(f)
	buf[len(buf)-1] ^= 1
	os.WriteFile(f, buf, 0o644)
	if err := VerifyShards(dir, id, 12, 0, 12, 6); err == nil || !strings.Contains(err.Error(), "corrupt") {
		t.Errorf("flipped bit: error %v, want corrupt", err)
	}
}

func TestSplitFeatures(t *testing.T) {
	req := FeaturesRequest{Records: "r.json", ShardSize: 4}
	for _, tc := range []struct {
		records, start, end, tasks int
		want                       string
	}{
		{records: 18, tasks: 4, want: "[0 4) [4 8) [8 12) [12 18)"},
		{records: 18, tasks: 2, want: "[0 8) [8 18)"},
		{records: 18, tasks: 9, want: "[0 4) [4 8) [8 12) [12 16) [16 18)"},
		{records: 18, start: 8, end: 18, tasks: 2, want: "[8 12) [12 18)"},
	} {
		r := req
		r.Start, r.End = tc.start, tc.end
		parts, err := SplitFeatures(r, tc.records, tc.tasks)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, p := range parts {
			got = append(got, fmt.Sprintf("[%d %d)", p.Start, p.End))
		}
		if strings.Join(got, " ") != tc.want {
			t.Errorf("%+v: %s, want %s", tc, strings.Join(got, " "), tc.want)
		}
	}
}

func TestBatchResult(t *testing.T) {
	hello := `{"v":1,"id":"0","type":"result","result":{"protocol":1,"worker":"w","ops":["predict"]}}`
	for _, tc := range []struct {
		name, out string
		want      Kind // 0: success
	}{
		{"ok", hello + "\n" + `{"v":1,"id":"1","type":"progress","done":1,"total":2}` + "\n" + `{"v":1,"id":"1","type":"result","result":{"answers":2}}` + "\n", 0},
		{"killed", hello + "\n" + `{"v":1,"id":"1","type":"progress","done":1,"total":2}` + "\n", KindCrash},
		{"empty", "", KindCrash},
		{"old worker", `{"v":1,"id":"0","type":"result","result":{"protocol":0,"worker":"w"}}` + "\n", KindVersion},
		{"failed", hello + "\n" + `{"v":1,"id":"1","type":"error","error":"no such file"}` + "\n", KindFailed},
		{"noise", hello + "\nloading weights...\n", KindProtocol},
	} {
		var res PredictResult
		err := BatchResult("predict", []byte(tc.out), &res)
		switch {
		case tc.want == 0 && (err != nil || res.Answers != 2):
			t.Errorf("%s: %v, %+v", tc.name, err, res)
		case tc.want != 0 && !IsKind(err, tc.want):
			t.Errorf("%s: error %v, want %q", tc.name, err, tc.want)
		}
	}
	in, err := BatchInput("predict", PredictRequest{Model: "m"})
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	Serve(context.Background(), Builtin{}, "w", bytes.NewReader(in), &out)
	var res PredictResult
	if err := BatchResult("predict", out.Bytes(), &res); !IsKind(err, KindFailed) || !strings.Contains(err.Error(), "no answers file named") {
		t.Errorf("served batch input: %v, want the worker's failure", err)
	}
}

func TestExternalHello(t *testing.T) {
	h, err := self("ok").Hello(context.Background())
	if err != nil || h.Worker != "test-ok" || h.Protocol != Version {
		t.Errorf("hello: %+v, %v", h, err)
	}
	if _, err := self("version").Hello(context.Background()); !IsKind(err, KindVersion) {
		t.Errorf("hello of a version-2 worker: %v, want %q", err, KindVersion)
	}
}

// brokenPipe is a worker's stdin after the worker has exited.
type brokenPipe struct{}

func (brokenPipe) Write([]byte) (int, error) { return 0, syscall.EPIPE }
func (brokenPipe) Close() error              { return nil }

// TestAnswerBeforeBrokenPipe: a worker that wrote its answer and exited
// before the request reached it (the write fails) is judged by what it
// wrote: a line that is not JSON is a protocol error naming it, not a crash.
func TestAnswerBeforeBrokenPipe(t *testing.T) {
	lines := make(chan []byte, 1)
	lines <- []byte("Traceback (most recent call last): oops")
	close(lines)
	s := &session{x: &External{}, op: "features", stdin: brokenPipe{}, lines: lines, stderr: &tailBuffer{max: stderrTail}}
	err := s.roundTrip(context.Background(), Request{V: Version, ID: "0", Op: "hello"}, nil, &Hello{})
	if !IsKind(err, KindProtocol) || !strings.Contains(err.Error(), "Traceback") {
		t.Fatalf("error %v, want kind %q mentioning the line", err, KindProtocol)
	}
}
