// Package grad holds per-example gradient features: their extraction and
// projection, and their storage as numpy .npy files ([N, d] features, row i =
// record i; [N] norms) or as a sharded store whose manifests record the
// projector identity (kind, seed, dims, dtype), row range and SHA-256 of each
// shard, so that a merge refuses shards that disagree or are truncated or
// corrupt.
package grad
