package backend

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/tive-dev/tive/harness/data"
	"github.com/tive-dev/tive/harness/grad"
)

// External runs each request in a fresh worker process started from Argv
// (no shell is involved; requests carry file paths, the harness opens no
// network connection) and talks
// to it with the protocol of Version: hello first (its version must be
// Version), then the op. The process's stdin is closed after the answer and
// it must exit. Failures come back as *Error with the Kind that says what
// went wrong; crashes, hangs and bad shards are retried up to Retries times.
//
// Feature shards are checked (VerifyShards, and grad.OpenStore when the
// request covers the whole pool) before Features returns: a bad shard's
// manifest is renamed to <name>.bad, so it is neither resumed from nor
// merged, and the retry recomputes it.
type External struct {
	Argv []string // worker command: program and arguments
	Env  []string // added to the harness's environment ("KEY=value")
	Dir  string   // working folder ("" = the harness's)
	// Timeout bounds one attempt of one request (0: no bound); IdleTimeout
	// bounds the silence between two lines of the worker (0: no bound).
	// A worker past either is killed, with its process group.
	Timeout, IdleTimeout time.Duration
	Retries              int       // extra attempts after a retryable failure
	Log                  io.Writer // receives the worker's stderr (nil: kept only for errors)
}

// stderrTail is how much of a worker's stderr an Error quotes.
const stderrTail = 2048

// Hello starts a worker and asks for its protocol version, name and ops
// only: a cheap check of a configured worker before a run. Outcomes as for
// the ops (KindStart when argv does not start, KindVersion, ...).
func (x *External) Hello(ctx context.Context) (*Hello, error) {
	var h Hello
	if err := x.call(ctx, "hello", nil, nil, &h, nil); err != nil {
		return nil, err
	}
	return &h, nil
}

// Train runs a train request in a worker.
func (x *External) Train(ctx context.Context, req TrainRequest, progress Progress) (*TrainResult, error) {
	if req.SaveOptimizer {
		return nil, errors.New("train: the external worker does not save optimizer state (Adam gradient features need the builtin backend)")
	}
	var res TrainResult
	err := x.call(ctx, "train", req, progress, &res, nil)
	if err != nil {
		return nil, err
	}
	return &res, nil
}

// Predict runs a predict request in a worker and checks that the answer
// file has one line per question.
func (x *External) Predict(ctx context.Context, req PredictRequest, progress Progress) (*PredictResult, error) {
	var res PredictResult
	err := x.call(ctx, "predict", req, progress, &res, func() error {
		qs, err := ReadQuestions(req.Questions)
		if err != nil {
			return err
		}
		b, err := os.ReadFile(req.Answers)
		if err != nil {
			return &Error{Op: "predict", Kind: KindCrash, Err: fmt.Errorf("no answer file: %v", err)}
		}
		if n := strings.Count(string(b), "\n"); n != len(qs) || res.Answers != len(qs) {
			return &Error{Op: "predict", Kind: KindProtocol, Err: fmt.Errorf("%s has %d lines (result says %d), want one per question (%d)", req.Answers, n, res.Answers, len(qs))}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &res, nil
}

// Features runs a features request in a worker and verifies every shard of
// the requested range.
func (x *External) Features(ctx context.Context, req FeaturesRequest, progress Progress) (*FeaturesResult, error) {
	if req.Precondition != "" {
		return nil, fmt.Errorf("features: the external worker does not implement precondition %q (Adam gradient features need the builtin backend)", req.Precondition)
	}
	recs, err := data.Load(req.Records)
	if err != nil {
		return nil, err
	}
	start, end, err := req.rows(len(recs))
	if err != nil {
		return nil, err
	}
	want := grad.ProjectorID{Kind: req.Projector.Kind, Seed: req.Projector.Seed, Dim: req.Projector.Dim, Dtype: req.Projector.Dtype}
	if want.Dtype == "" {
		want.Dtype = grad.Float32
	}
	var res FeaturesResult
	err = x.call(ctx, "features", req, progress, &res, func() error {
		bad := func(err error) error {
			var se *ShardError
			if errors.As(err, &se) {
				if qerr := quarantine(se.Dir, se.Shard); qerr != nil {
					err = fmt.Errorf("%v (and it could not be set aside: %v)", err, qerr)
				}
			}
			return &Error{Op: "features", Kind: KindBadShard, Err: err}
		}
		if res.Records != len(recs) || res.Projector.Kind != want.Kind || res.Projector.Seed != want.Seed ||
			res.Projector.Dtype != want.Dtype || (want.Dim != 0 && res.Projector.Dim != want.Dim) {
			return &Error{Op: "features", Kind: KindProtocol, Err: fmt.Errorf("result names projector %+v over %d records, asked for %+v over %d", res.Projector, res.Records, want, len(recs))}
		}
		if err := VerifyShards(req.Out, res.Projector, len(recs), start, end, req.ShardSize); err != nil {
			return bad(err)
		}
		if start == 0 && end == len(recs) {
			if _, err := grad.OpenStore(req.Out, false); err != nil {
				return &Error{Op: "features", Kind: KindFailed, Err: fmt.Errorf("shards do not merge: %v", err)}
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &res, nil
}

// call runs op in fresh workers until an attempt succeeds (its result
// decoded into result and accepted by check, when set) or fails in a way
// that is not retryable, or the retries are spent.
func (x *External) call(ctx context.Context, op string, args any, progress Progress, result any, check func() error) error {
	raw, err := json.Marshal(args)
	if err != nil {
		return err
	}
	for attempt := 1; ; attempt++ {
		err := x.attempt(ctx, op, raw, progress, result)
		if err == nil && check != nil {
			err = check()
		}
		var e *Error
		if err == nil || !errors.As(err, &e) {
			return err
		}
		e.Attempts = attempt
		if !e.Kind.retryable() || attempt > x.Retries || ctx.Err() != nil {
			return e
		}
		if x.Log != nil {
			fmt.Fprintf(x.Log, "tive: %v; retrying (%d of %d)\n", e, attempt, x.Retries)
		}
	}
}

// tailBuffer keeps the last max bytes written to it, and copies every write to w.
type tailBuffer struct {
	mu  sync.Mutex
	w   io.Writer
	max int
	buf []byte
}

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.w != nil {
		t.w.Write(p)
	}
	t.buf = append(t.buf, p...)
	if len(t.buf) > t.max {
		t.buf = append(t.buf[:0], t.buf[len(t.buf)-t.max:]...)
	}
	return len(p), nil
}

func (t *tailBuffer) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return strings.TrimRight(string(t.buf), "\n")
}

// attempt starts one worker, says hello, runs op and waits for the worker
// to exit.
func (x *External) attempt(ctx context.Context, op string, args json.RawMessage, progress Progress, result any) error {
	if len(x.Argv) == 0 {
		return &Error{Op: op, Kind: KindStart, Err: errors.New("no worker command (empty argv)")}
	}
	cmd := exec.Command(x.Argv[0], x.Argv[1:]...)
	cmd.Dir = x.Dir
	cmd.Env = append(os.Environ(), x.Env...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.WaitDelay = 10 * time.Second // a grandchild holding stderr open cannot block Wait
	stderr := &tailBuffer{w: x.Log, max: stderrTail}
	cmd.Stderr = stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return err
	}
	if err := cmd.Start(); err != nil {
		return &Error{Op: op, Kind: KindStart, Err: err}
	}
	kill := func() { syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	lines := make(chan []byte)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(stdout)
		sc.Buffer(nil, 16<<20)
		for sc.Scan() {
			lines <- append([]byte(nil), sc.Bytes()...)
		}
	}()
	s := &session{x: x, op: op, cmd: cmd, stdin: stdin, lines: lines, stderr: stderr, kill: kill}
	if x.Timeout > 0 {
		s.deadline = time.After(x.Timeout)
	}
	err = s.run(ctx, args, progress, result)
	if err != nil {
		kill()
		for range lines { // drain, so the reader goroutine ends
		}
		cmd.Wait()
		if e, ok := err.(*Error); ok && e.Stderr == "" {
			e.Stderr = stderr.String()
		}
		return err
	}
	return nil
}

// session is one worker process during one attempt.
type session struct {
	x        *External
	op       string
	cmd      *exec.Cmd
	stdin    io.WriteCloser
	lines    chan []byte
	stderr   *tailBuffer
	kill     func()
	deadline <-chan time.Time
}

func (s *session) fail(k Kind, format string, args ...any) error {
	return &Error{Op: s.op, Kind: k, Err: fmt.Errorf(format, args...)}
}

func (s *session) run(ctx context.Context, args json.RawMessage, progress Progress, result any) error {
	hello := &Hello{}
	if h, ok := result.(*Hello); ok && s.op == "hello" {
		hello = h
	}
	if err := s.roundTrip(ctx, Request{V: Version, ID: "0", Op: "hello"}, nil, hello); err != nil {
		return err
	}
	if hello.Protocol != Version {
		return s.fail(KindVersion, "worker %q speaks protocol %d, the harness speaks %d", hello.Worker, hello.Protocol, Version)
	}
	if s.op != "hello" {
		if err := s.roundTrip(ctx, Request{V: Version, ID: "1", Op: s.op, Args: args}, progress, result); err != nil {
			return err
		}
	}
	s.stdin.Close()
	// A worker exits when its stdin ends; one that does not is killed.
	done := make(chan error, 1)
	go func() {
		for range s.lines {
		}
		done <- s.cmd.Wait()
	}()
	select {
	case err := <-done:
		if err != nil {
			return s.fail(KindCrash, "worker answered but then exited with %v", err)
		}
		return nil
	case <-time.After(30 * time.Second):
		s.kill()
		<-done
		return s.fail(KindTimeout, "worker answered but did not exit within 30s of its stdin closing")
	}
}

// roundTrip sends req and reads lines until its result (decoded into
// result) or error. A worker that has already answered and exited breaks
// the pipe before the request reaches it; what it wrote still decides
// (a line that is not JSON is a protocol error, another protocol version a
// version error), and only a worker that wrote nothing has crashed.
func (s *session) roundTrip(ctx context.Context, req Request, progress Progress, result any) error {
	b, _ := json.Marshal(req)
	_, sendErr := s.stdin.Write(append(b, '\n'))
	var idle <-chan time.Time
	for {
		if s.x.IdleTimeout > 0 {
			idle = time.After(s.x.IdleTimeout)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-s.deadline:
			return s.fail(KindTimeout, "no answer to %s within %v: killed", req.Op, s.x.Timeout)
		case <-idle:
			return s.fail(KindTimeout, "silent for %v during %s: killed", s.x.IdleTimeout, req.Op)
		case line, ok := <-s.lines:
			if !ok {
				if sendErr != nil {
					return s.crashed(fmt.Sprintf("could not send the %s request: %v", req.Op, sendErr))
				}
				return s.crashed(fmt.Sprintf("no answer to %s", req.Op))
			}
			done, err := decodeLine(s.op, req, line, progress, result)
			if done || err != nil {
				return err
			}
		}
	}
}

// decodeLine interprets one line a worker wrote while req was pending:
// progress is reported (done false), a result is decoded into result (done
// true), and an error line, another version, another request's id or a
// malformed line is an *Error of op.
func decodeLine(op string, req Request, line []byte, progress Progress, result any) (done bool, err error) {
	fail := func(k Kind, format string, args ...any) (bool, error) {
		return true, &Error{Op: op, Kind: k, Err: fmt.Errorf(format, args...)}
	}
	var resp Response
	if err := json.Unmarshal(line, &resp); err != nil {
		return fail(KindProtocol, "not a JSON response line: %.200q", line)
	}
	if resp.V != Version {
		return fail(KindVersion, "worker answered with protocol version %d, the harness speaks %d: %.200s", resp.V, Version, line)
	}
	if resp.ID != req.ID {
		return fail(KindProtocol, "answer to request %q while waiting for %q: %.200s", resp.ID, req.ID, line)
	}
	switch resp.Type {
	case "progress":
		if progress != nil {
			progress(resp.Done, resp.Total)
		}
		return false, nil
	case "error":
		return fail(KindFailed, "%s", resp.Error)
	case "result":
		if err := json.Unmarshal(resp.Result, result); err != nil {
			return fail(KindProtocol, "%s result: %v", req.Op, err)
		}
		return true, nil
	}
	return fail(KindProtocol, "response type %q (want progress, result or error)", resp.Type)
}

// crashed waits for the worker that closed its stdout and describes how it ended.
func (s *session) crashed(what string) error {
	done := make(chan error, 1)
	go func() { done <- s.cmd.Wait() }()
	var status error
	select {
	case status = <-done:
	case <-time.After(5 * time.Second):
		s.kill()
		status = <-done
	}
	if status == nil {
		status = errors.New("exit status 0")
	}
	return &Error{Op: s.op, Kind: KindCrash, Err: fmt.Errorf("%s: worker ended (%v)", what, status), Stderr: s.stderr.String()}
}
