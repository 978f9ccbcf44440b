package pipeline

import (
	"runtime"
	"runtime/debug"
)

// HarnessVersion is the release of the harness.
const HarnessVersion = "0.1.0"

// VersionInfo says which code produced an artifact.
type VersionInfo struct {
	Harness string `json:"harness"`
	Commit  string `json:"commit"`
	Dirty   bool   `json:"dirty"`
	Go      string `json:"go"`
	Arith   string `json:"arith"` // float32 matrix products: "gonum" or "openblas VERSION KERNEL"
}

// Version reads the VCS stamp of the running binary ("unknown" under go test
// and go run, which do not stamp it).
func Version() VersionInfo {
	v := VersionInfo{Harness: HarnessVersion, Commit: "unknown", Go: runtime.Version(), Arith: Arith()}
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				v.Commit = s.Value
			case "vcs.modified":
				v.Dirty = s.Value == "true"
			}
		}
	}
	return v
}
