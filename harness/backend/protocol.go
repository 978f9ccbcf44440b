package backend

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"sync"
)

// Version is the worker protocol version spoken here. A worker that
// answers with another version is refused (KindVersion); a request with
// another version is answered with an error.
//
// The protocol (version 1) is JSON lines over the worker's stdin and
// stdout; the worker's stderr is free-form log. The harness writes one
// request per line,
//
//	{"v":1,"id":"1","op":"features","args":{...FeaturesRequest...}}
//
// with op one of hello, train, features, predict and args the op's request
// struct (TrainRequest, FeaturesRequest, PredictRequest; none for hello).
// The worker answers each request, in order, with any number of progress
// lines and then exactly one result or error line carrying the same id:
//
//	{"v":1,"id":"1","type":"progress","done":64,"total":256}
//	{"v":1,"id":"1","type":"result","result":{...FeaturesResult...}}
//	{"v":1,"id":"1","type":"error","error":"features: rows [0, 9) ..."}
//
// hello's result is a Hello. A worker serves requests until its stdin
// ends, then exits with status 0. Data never travels in the protocol, only
// file paths: every output is a file the worker writes atomically.
const Version = 1

// Request is one line from the harness to a worker.
type Request struct {
	V    int             `json:"v"`
	ID   string          `json:"id"`
	Op   string          `json:"op"`
	Args json.RawMessage `json:"args,omitempty"`
}

// Response is one line from a worker to the harness. Type is "progress"
// (Done, Total), "result" (Result) or "error" (Error).
type Response struct {
	V      int             `json:"v"`
	ID     string          `json:"id"`
	Type   string          `json:"type"`
	Done   int             `json:"done,omitempty"`
	Total  int             `json:"total,omitempty"`
	Result json.RawMessage `json:"result,omitempty"`
	Error  string          `json:"error,omitempty"`
}

// Hello is the result of the hello op: the protocol version the worker
// speaks, its name and the ops it serves.
type Hello struct {
	Protocol int      `json:"protocol"`
	Worker   string   `json:"worker"`
	Ops      []string `json:"ops"`
}

// Serve answers protocol requests read from r with b, writing responses to
// w, one request at a time, until r ends (nil) or reading or writing fails.
// A malformed request or a failed op is answered with an error line and
// serving goes on. name is the worker name given in hello.
func Serve(ctx context.Context, b Backend, name string, r io.Reader, w io.Writer) error {
	var mu sync.Mutex
	enc := json.NewEncoder(w)
	send := func(resp Response) error {
		mu.Lock()
		defer mu.Unlock()
		resp.V = Version
		return enc.Encode(resp)
	}
	sc := bufio.NewScanner(r)
	sc.Buffer(nil, 16<<20)
	for sc.Scan() {
		if len(sc.Bytes()) == 0 {
			continue
		}
		var req Request
		if err := json.Unmarshal(sc.Bytes(), &req); err != nil {
			if err := send(Response{Type: "error", Error: fmt.Sprintf("malformed request: %v", err)}); err != nil {
				return err
			}
			continue
		}
		var progressErr error
		progress := func(done, total int) {
			if err := send(Response{ID: req.ID, Type: "progress", Done: done, Total: total}); err != nil && progressErr == nil {
				progressErr = err
			}
		}
		result, err := dispatch(ctx, b, name, req, progress)
		if progressErr != nil {
			return progressErr
		}
		resp := Response{ID: req.ID, Type: "result"}
		if err == nil {
			resp.Result, err = json.Marshal(result)
		}
		if err != nil {
			resp = Response{ID: req.ID, Type: "error", Error: err.Error()}
		}
		if err := send(resp); err != nil {
			return err
		}
	}
	return sc.Err()
}

// dispatch runs one request on b.
func dispatch(ctx context.Context, b Backend, name string, req Request, progress Progress) (any, error) {
	if req.V != Version {
		return nil, fmt.Errorf("protocol version %d is not spoken here (this worker speaks %d)", req.V, Version)
	}
	decode := func(v any) error {
		if len(req.Args) == 0 {
			return fmt.Errorf("%s: no args", req.Op)
		}
		if err := json.Unmarshal(req.Args, v); err != nil {
			return fmt.Errorf("%s: args: %v", req.Op, err)
		}
		return nil
	}
	switch req.Op {
	case "hello":
		return Hello{Protocol: Version, Worker: name, Ops: []string{"train", "features", "predict"}}, nil
	case "train":
		var a TrainRequest
		if err := decode(&a); err != nil {
			return nil, err
		}
		return b.Train(ctx, a, progress)
	case "features":
		var a FeaturesRequest
		if err := decode(&a); err != nil {
			return nil, err
		}
		return b.Features(ctx, a, progress)
	case "predict":
		var a PredictRequest
		if err := decode(&a); err != nil {
			return nil, err
		}
		return b.Predict(ctx, a, progress)
	}
	return nil, fmt.Errorf("unknown op %q (want hello, train, features or predict)", req.Op)
}
