// Package pipeline is the machinery that runs a study's stages through a
// run store (package store): the stage registry (Stage, Register), the
// invocations (Node, Call), their keys (Keys), the runner (Runner) and
// where stages run (Executor: Local here, a Slurm job array in package
// slurm; ExecJob runs one job file). The stages themselves, and the
// planner that turns a run of a spec into Nodes, are package stages; a
// Runner is given that planner (Runner.Plan).
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
