// Package stages holds the body of every stage of a study, registered with
// package pipeline when this package is imported, and the planner (Plan)
// that lists a run's stage invocations:
//
//	world, warmup, select          spine.go: the pool, the warm-up sample, the selection
//	vision, tokens                 vision.go: the vision tower and its cached outputs
//	language, pretrain, reference,
//	features, valfeatures          modelstages.go (alignment: align.go)
//	train, predict, score, chance  evalstages.go
//
// Each stage owns its output files: it names them, writes them, and gives
// the readers other packages use (ReadSelection, ReadScores, ReadChance,
// ReadBenchScores, ReadParts); no other package spells a stage's file name
// (TestNoPackageNamesAnothersFile). selectfiles.go is the file I/O of
// selection that `tive select` shares with the select stage.
//
// A stage's seed is seeds.Derive(run seed, stage name); the pretraining
// stages (vision, language, pretrain) take theirs from the world's seed,
// so every run on one world shares them.
package stages
