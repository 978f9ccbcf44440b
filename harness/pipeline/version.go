package pipeline

import (
	"runtime"
	"runtime/debug"

	"github.com/tive-dev/tive/harness/store"
)

// HarnessVersion is the release of the harness.
const HarnessVersion = "0.1.0"

// Version reads the VCS stamp of the running binary ("unknown" under go test
// and go run, which do not stamp it).
func Version() store.VersionInfo {
	v := store.VersionInfo{Harness: HarnessVersion, Commit: "unknown", Go: runtime.Version(), Arith: Arith()}
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
