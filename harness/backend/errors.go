package backend

import (
	"errors"
	"fmt"
)

// Kind classifies a failure of an external worker.
type Kind int

// The kinds of worker failure. Crash, Timeout and BadShard are retried
// (External.Retries): every output is written atomically and shards are
// checked, so a repeat is safe. The others are not: they would fail again.
const (
	KindStart    Kind = iota + 1 // the worker could not be started (argv[0] missing, not executable)
	KindCrash                    // the worker exited or closed stdout before answering
	KindTimeout                  // no answer within Timeout, or silence longer than IdleTimeout: killed
	KindVersion                  // the worker speaks another protocol version
	KindProtocol                 // the worker wrote a line that is not a valid response
	KindBadShard                 // a feature shard is missing, truncated, corrupt or of another projector
	KindFailed                   // the worker reported an error (bad request or input)
)

var kindNames = map[Kind]string{
	KindStart: "worker did not start", KindCrash: "worker crashed", KindTimeout: "worker hung",
	KindVersion: "worker protocol version mismatch", KindProtocol: "worker protocol error",
	KindBadShard: "worker wrote a bad shard", KindFailed: "worker failed",
}

func (k Kind) String() string {
	if s, ok := kindNames[k]; ok {
		return s
	}
	return fmt.Sprintf("Kind(%d)", int(k))
}

// retryable reports whether a failure of this kind may go away on a repeat.
func (k Kind) retryable() bool { return k == KindCrash || k == KindTimeout || k == KindBadShard }

// Error is a failure of an external worker during one op.
type Error struct {
	Op       string // hello, train, features, predict
	Kind     Kind
	Attempts int    // attempts made, retries included
	Stderr   string // the last lines the worker wrote to stderr, if any
	Err      error  // details
}

func (e *Error) Error() string {
	s := fmt.Sprintf("%s: %s: %v", e.Op, e.Kind, e.Err)
	if e.Attempts > 1 {
		s += fmt.Sprintf(" (after %d attempts)", e.Attempts)
	}
	if e.Stderr != "" {
		s += "\nworker stderr (last lines):\n" + e.Stderr
	}
	return s
}

func (e *Error) Unwrap() error { return e.Err }

// IsKind reports whether err is (or wraps) an *Error of kind k.
func IsKind(err error, k Kind) bool {
	var e *Error
	return errors.As(err, &e) && e.Kind == k
}
