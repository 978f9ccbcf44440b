// Package seeds derives every seed and random stream of a run from one root.
//
// A seed is named by its path below a root seed:
//
//	Derive(root, p₁, …, pₙ) = the first 8 bytes, big-endian, of
//	SHA-256("tive-seed/2" ‖ 0x00 ‖ root as decimal ‖ 0x00 ‖ p₁ ‖ … ‖ 0x00 ‖ pₙ)
//
// and the stream of a path is PCG seeded by the first 16 bytes of the same
// hash (Rand). Two paths give independent seeds whatever order they are
// drawn in, and a path never names the seed of another (a NUL byte comes
// before each element, and no element may hold one).
//
// The roots: a run's seed (spec key seed) for its stages, named by the
// stage's name (a training's seed is Derive(runSeed, "train")); the world's
// seed (world.seed, Derive(runSeed, World) unless the spec pins it) for the
// world's draws and the pretraining stages, which are the world's and so
// shared by every run on it. A stage's own streams hang off its seed by the
// names below.
package seeds

import (
	"crypto/sha256"
	"encoding/binary"
	"math/rand/v2"
	"strconv"
	"strings"
)

// Path elements shared by the packages that draw from these streams.
const (
	World     = "world"     // a run's world seed, where the spec does not pin world.seed
	Projector = "projector" // a run's gradient projector seed, where the spec does not pin features.projector.seed
	Init      = "init"      // a model's initial weights, below the seed model.New is given
	LoRA      = "lora"      // LoRA adapters' initial weights, below AttachLoRA's seed
	Head      = "head"      // the vision tower's pretraining heads, below its training seed
	Epoch     = "epoch"     // the order of an epoch's examples: Epoch, epoch index
	Step      = "step"      // one training step's draws: Step, step index
	Noise     = "noise"     // a rendered scene's pixel noise, below the scene's noise seed
)

// Derive is the seed at path below root (see the package doc).
func Derive(root uint64, path ...string) uint64 {
	h := sum(root, path)
	return binary.BigEndian.Uint64(h[:8])
}

// Rand is the PCG stream at path below root: rand.NewPCG with the first
// and second 8 bytes (big-endian) of the hash that Derive reads the first of.
func Rand(root uint64, path ...string) *rand.Rand {
	h := sum(root, path)
	return rand.New(rand.NewPCG(binary.BigEndian.Uint64(h[:8]), binary.BigEndian.Uint64(h[8:16])))
}

// I names an index as a path element (its decimal).
func I(i int) string { return strconv.Itoa(i) }

func sum(root uint64, path []string) [32]byte {
	var b strings.Builder
	b.WriteString("tive-seed/2\x00")
	b.WriteString(strconv.FormatUint(root, 10))
	for _, p := range path {
		if strings.IndexByte(p, 0) >= 0 {
			panic("seeds: NUL in path element " + strconv.Quote(p))
		}
		b.WriteByte(0)
		b.WriteString(p)
	}
	return sha256.Sum256([]byte(b.String()))
}
