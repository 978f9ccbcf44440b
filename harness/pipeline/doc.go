// Package pipeline plans a study's stages and runs them through a run
// store (package store).
//
// A stage's key is SHA-256 over (stage name, stage version, canonical JSON of
// its resolved parameters, its seed, and for each named input the key of the
// upstream stage or the SHA-256 of the external file). The stage version is
// the code version: it changes whenever the stage's outputs would change for
// the same inputs, so stale results are never reused; unrelated commits do
// not invalidate the cache. A key's folder is committed atomically and one
// lock per store serialises runs (package store), so a run killed at any
// moment loses at most the stages in flight, and the next run resumes.
//
// Crash tests kill a run at named points (store.Store.Hook, Call.Hook and
// ExecJob's hook): "stage-start:STAGE", "exec:STAGE:TASK",
// "shard-written:features", and the store's commits.
package pipeline
