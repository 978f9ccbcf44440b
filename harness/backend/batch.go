package backend

import (
	"bytes"
	"encoding/json"
	"fmt"
)

// BatchInput is the protocol input of one op for a worker that runs with
// no harness on the other end of its pipes, as a Slurm job does
// (`tive worker < input > output`): a hello request (id "0"), then the op
// (id "1"). The worker exits when the input ends.
func BatchInput(op string, args any) ([]byte, error) {
	raw, err := json.Marshal(args)
	if err != nil {
		return nil, err
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.Encode(Request{V: Version, ID: "0", Op: "hello"})
	enc.Encode(Request{V: Version, ID: "1", Op: op, Args: raw})
	return b.Bytes(), nil
}

// BatchResult reads what a worker wrote to stdout for BatchInput(op, ...)
// and decodes the op's result into result. Outcomes are External's: an
// *Error of KindCrash when an answer is missing (the job was killed or
// died), KindVersion, KindProtocol or KindFailed. The caller then checks
// the outputs, e.g. VerifyShards for features, before merging anything.
func BatchResult(op string, output []byte, result any) error {
	lines := bytes.Split(bytes.TrimRight(output, "\n"), []byte("\n"))
	if len(output) == 0 {
		lines = nil
	}
	var hello Hello
	reqs := []struct {
		req    Request
		result any
	}{{Request{V: Version, ID: "0", Op: "hello"}, &hello}, {Request{V: Version, ID: "1", Op: op}, result}}
	k := 0
	for _, r := range reqs {
		for done := false; !done; k++ {
			if k == len(lines) {
				return &Error{Op: op, Kind: KindCrash, Err: fmt.Errorf("the worker's output ends after %d lines without an answer to %s (killed or crashed)", len(lines), r.req.Op)}
			}
			var err error
			if done, err = decodeLine(op, r.req, lines[k], nil, r.result); err != nil {
				return err
			}
		}
		if r.req.Op == "hello" && hello.Protocol != Version {
			return &Error{Op: op, Kind: KindVersion, Err: fmt.Errorf("worker %q speaks protocol %d, the harness speaks %d", hello.Worker, hello.Protocol, Version)}
		}
	}
	if k != len(lines) {
		return &Error{Op: op, Kind: KindProtocol, Err: fmt.Errorf("%d lines after the answer to %s", len(lines)-k, op)}
	}
	return nil
}

// SplitFeatures splits req's rows into at most tasks requests of whole
// shards, as even as shards allow, for a job array: their shards together
// are exactly req's (the same files as one request would write). records is
// the pool size (used when req.End is 0).
func SplitFeatures(req FeaturesRequest, records, tasks int) ([]FeaturesRequest, error) {
	start, end, err := req.rows(records)
	if err != nil {
		return nil, err
	}
	if tasks <= 0 {
		return nil, fmt.Errorf("features: %d tasks (want at least 1)", tasks)
	}
	shards := (end - start + req.ShardSize - 1) / req.ShardSize
	tasks = min(tasks, shards)
	out := make([]FeaturesRequest, tasks)
	for k := range out {
		a, b := k*shards/tasks, (k+1)*shards/tasks
		out[k] = req
		out[k].Start, out[k].End = start+a*req.ShardSize, min(end, start+b*req.ShardSize)
	}
	return out, nil
}
