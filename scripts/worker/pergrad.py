"""Per-example gradients of LoRA adapters from one batched backward pass.

For a linear map y = x W^T (torch's weight W [Out, In]) applied to the tokens
of a batch, the gradient of example e's loss w.r.t. W is, in the [In, Out]
row-major layout of harness/model's GradFactor,

    G_e = sum_{t in e} x_t^T dy_t          (x_t [In], dy_t = dL/dy_t [Out])

provided the examples do not interact (attention masks) and the batch loss is
the sum of the per-example losses. Capture records x (forward) and dy
(backward) of the LoRA A and B linears of the attention projections q, k, v,
o, in harness/model's order: per decoder layer, q, k, v, o, A before B.
PEFT multiplies B's output by alpha/r after B, so dy captured at B's output
already carries that scale and every factor's Scale is 1 here.
"""

import torch
import torch.nn.functional as F

ATTN = ("q_proj", "k_proj", "v_proj", "o_proj")


def lora_layers(model, targets=ATTN, adapter="default"):
    """(name, A linear, B linear) of every LoRA-wrapped target, in module order."""
    out = []
    for name, mod in model.named_modules():
        if name.rsplit(".", 1)[-1] in targets and hasattr(mod, "lora_A") and adapter in getattr(mod, "lora_A", {}):
            out.append((name, mod.lora_A[adapter], mod.lora_B[adapter]))
    if not out:
        raise ValueError("model has no LoRA adapters on %s" % ", ".join(targets))
    return out


class Capture:
    """Records inputs and output gradients of every LoRA A and B linear.

    Use as a context manager around one forward and one backward pass; then
    factors() is [(1.0, X [B, T, In], DY [B, T, Out]), ...] in float32."""

    def __init__(self, model, targets=ATTN):
        self.layers = lora_layers(model, targets)
        self.shapes = []
        for _, a, b in self.layers:
            self.shapes += [(a.in_features, a.out_features), (b.in_features, b.out_features)]
        self._x = [None] * len(self.shapes)
        self._dy = [None] * len(self.shapes)
        self._handles = []

    def __enter__(self):
        for k, (_, a, b) in enumerate(self.layers):
            for j, lin in enumerate((a, b)):
                self._handles.append(lin.register_forward_hook(self._hook(2 * k + j)))
        return self

    def __exit__(self, *exc):
        for h in self._handles:
            h.remove()
        self._handles = []

    def _hook(self, f):
        def fwd(mod, inputs, output):
            self._x[f] = inputs[0].detach()

            def bwd(g):
                self._dy[f] = g.detach()

            if output.requires_grad:
                output.register_hook(bwd)

        return fwd

    def factors(self):
        for f, (x, dy) in enumerate(zip(self._x, self._dy)):
            if x is None or dy is None:
                raise RuntimeError("factor %d of %s was not reached by the forward and backward pass" % (f, self.layers[f // 2][0]))
        return [(1.0, x.float(), dy.float()) for x, dy in zip(self._x, self._dy)]


def per_example_grads(factors):
    """Flat per-example gradients, one [B, In*Out] tensor per factor."""
    return [(s * torch.einsum("bti,bto->bio", x, dy)).flatten(1) for s, x, dy in factors]


def norms(parts):
    """L2 norm of every example's full (concatenated) gradient, [B]."""
    sq = torch.zeros(parts[0].shape[0], dtype=torch.float64, device=parts[0].device)
    for p in parts:
        sq += (p.double() ** 2).sum(1)
    return sq.sqrt()


def response_losses(logits, labels, ignore=-100):
    """Per-example mean cross-entropy over response tokens and EL2N.

    logits [B, T, V] predict labels [B, T] shifted by one (causal LM);
    positions labelled `ignore` do not count. Returns (loss [B], el2n [B],
    n [B] response tokens); an example without response tokens gets 0."""
    z = logits[:, :-1].float()
    y = labels[:, 1:]
    mask = (y != ignore)
    yy = y.clamp(min=0)
    ce = F.cross_entropy(z.transpose(1, 2), yy, reduction="none") * mask
    n = mask.sum(1)
    denom = n.clamp(min=1)
    loss = ce.sum(1) / denom
    p = z.softmax(-1)
    p = p - F.one_hot(yy, z.shape[-1]).float()
    el2n = (p.norm(dim=-1) * mask).sum(1) / denom
    return loss, el2n, n
