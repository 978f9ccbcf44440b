// Package model is the built-in vision-language model: a small LLaVA-shaped
// network written out by hand on float32 and the matrix products and
// element-wise kernels of harness/internal/kernels (OpenBLAS and C, or gonum
// and Go), the llm.c way —
// one file per layer kind, each layer's Forward beside its Backward,
// activations in buffers that are grown once and reused, and every layer
// checked against finite differences (gradcheck_test.go).
//
// Architecture (Model): 64×64 RGB images are cut into 16×16 patches, embedded
// by a Linear, given learned positions and a bidirectional transformer block
// (the vision encoder), then an MLP projector (Linear, GELU, Linear) makes
// one visual token per patch. A decoder-only pre-norm transformer (causal
// attention, LayerNorm, GELU MLP) reads the vicuna_v1 prompt
//
//	<s> SYSTEM USER: <image>\n{question} ASSISTANT: {answer}</s>USER: ...
//
// with the visual tokens in place of <image>; the template's fixed strings
// are single tokens of the word-level Vocab.
//
// Training (Train) minimises the mean cross-entropy over the response
// tokens of each batch (gpt turns and their </s>) with AdamW under a cosine
// schedule with linear warm-up, either for every parameter or, with LoRA
// adapters attached (AttachLoRA), for the adapters and the projector only.
// Data order and dropout are seeded; checkpoints are safetensors files with
// a JSON manifest (Save, Load) and a run resumes from its newest complete
// checkpoint with the same bytes as an uninterrupted run. Generate decodes
// greedily in batches. PerExample gives the per-example gradient factors
// (layer inputs and output deltas of one batched backward pass) that
// package grad turns into features.
//
// Sequences of a batch are packed into one [tokens, D] matrix (no padding);
// attention runs per sequence and head. Both cores are used by the GEMMs
// (package kernels splits them in blocks fixed by the shape), by per-head
// attention tasks and by row-parallel element-wise layers; reductions over
// tokens run in fixed 256-row chunks, so results are the same bytes for any
// core count (within one back end of package kernels).
package model

// Numerics is the version of the model's float32 arithmetic (with package
// kernels'): bump it whenever a change gives other bytes for the same
// inputs, seeds and back end, so that stage keys (which name it) stop
// matching results computed before. 2: attention as fused C loops that skip
// the masked half, gradient chunks of 256 rows, bias added before the
// product.
const Numerics = "2"
