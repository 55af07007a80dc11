"""Golden values for the engine tests, from PyTorch (run once; CI only reads the JSON it writes).

    python tools/engine_golden.py   # writes test/engine/fixtures/transformer_golden.json

A small pre-LN transformer LM (embedding + positions, one block with causal attention and a GELU MLP,
final LayerNorm, output projection, mean cross-entropy) on a fixed batch:
  - forward: logits and loss; backward: the gradient of every param;
  - three AdamW steps (betas 0.9/0.95, eps 1e-8, weight decay 0.1 on params of rank >= 2, global grad
    norm clipped to 1.0, lr 1e-2, 5e-3, 2.5e-3): loss and pre-clip grad norm per step, params after.
Weights are stored as o2o lays them out: a linear layer's weight is [in, out] (torch's weight transposed).
"""
import json
import math
import os

import torch

torch.manual_seed(0)
torch.set_default_dtype(torch.float32)

V, D, H, T, B, F = 11, 8, 2, 5, 2, 16
DH = D // H


def param(*shape, std=0.3):
    return torch.nn.Parameter(torch.randn(*shape) * std)


P = {
    "tok": param(V, D),
    "pos": param(T, D),
    "ln1.g": torch.nn.Parameter(1 + 0.1 * torch.randn(D)),
    "ln1.b": param(D, std=0.1),
    "wq": param(D, D),
    "wk": param(D, D),
    "wv": param(D, D),
    "wo": param(D, D),
    "bo": param(D, std=0.1),
    "ln2.g": torch.nn.Parameter(1 + 0.1 * torch.randn(D)),
    "ln2.b": param(D, std=0.1),
    "w1": param(D, F),
    "b1": param(F, std=0.1),
    "w2": param(F, D),
    "b2": param(D, std=0.1),
    "lnf.g": torch.nn.Parameter(1 + 0.1 * torch.randn(D)),
    "lnf.b": param(D, std=0.1),
    "wout": param(D, V),
}
ids = torch.randint(0, V, (B, T))
targets = torch.randint(0, V, (B, T))


def forward(p):
    ln = torch.nn.functional.layer_norm
    x = p["tok"][ids] + p["pos"][:T]
    h = ln(x, (D,), p["ln1.g"], p["ln1.b"], 1e-5)

    def heads(t):
        return t.reshape(B, T, H, DH).transpose(1, 2)

    q, k, v = heads(h @ p["wq"]), heads(h @ p["wk"]), heads(h @ p["wv"])
    s = q @ k.transpose(-1, -2) / math.sqrt(DH)
    mask = torch.ones(T, T, dtype=torch.bool).tril()
    s = s.masked_fill(~mask, float("-inf"))
    a = torch.softmax(s, -1) @ v
    x = x + a.transpose(1, 2).reshape(B, T, D) @ p["wo"] + p["bo"]
    h = ln(x, (D,), p["ln2.g"], p["ln2.b"], 1e-5)
    x = x + torch.nn.functional.gelu(h @ p["w1"] + p["b1"]) @ p["w2"] + p["b2"]
    logits = ln(x, (D,), p["lnf.g"], p["lnf.b"], 1e-5) @ p["wout"]
    loss = torch.nn.functional.cross_entropy(logits.reshape(-1, V), targets.reshape(-1))
    return logits, loss


def flat(t):
    return {"shape": list(t.shape), "data": [float(x) for x in t.detach().reshape(-1).tolist()]}


out = {
    "config": {"V": V, "D": D, "H": H, "T": T, "B": B, "F": F},
    "params": {k: flat(v) for k, v in P.items()},
    "ids": ids.reshape(-1).tolist(),
    "targets": targets.reshape(-1).tolist(),
}
logits, loss = forward(P)
loss.backward()
out["logits"] = flat(logits)
out["loss"] = loss.item()
out["grads"] = {k: flat(v.grad) for k, v in P.items()}

decay = [v for v in P.values() if v.dim() >= 2]
no_decay = [v for v in P.values() if v.dim() < 2]
opt = torch.optim.AdamW(
    [{"params": decay, "weight_decay": 0.1}, {"params": no_decay, "weight_decay": 0.0}],
    lr=1e-2, betas=(0.9, 0.95), eps=1e-8, foreach=False,
)
lrs = [1e-2, 5e-3, 2.5e-3]
steps = []
for lr in lrs:
    for g in opt.param_groups:
        g["lr"] = lr
    opt.zero_grad()
    _, loss = forward(P)
    loss.backward()
    norm = torch.nn.utils.clip_grad_norm_(list(P.values()), 1.0)
    opt.step()
    steps.append({"loss": loss.item(), "grad_norm": norm.item()})
out["adamw"] = {
    "lrs": lrs, "beta1": 0.9, "beta2": 0.95, "eps": 1e-8, "weight_decay": 0.1, "clip": 1.0,
    "steps": steps,
    "params_after": {k: flat(v) for k, v in P.items()},
}

here = os.path.dirname(os.path.abspath(__file__))
dest = os.path.join(here, "..", "test", "engine", "fixtures", "transformer_golden.json")
os.makedirs(os.path.dirname(dest), exist_ok=True)
with open(dest, "w") as f:
    json.dump(out, f)
print(f"wrote {os.path.relpath(dest)} (torch {torch.__version__})")

# A safetensors file written by the reference implementation (the `safetensors` package), which the
# engine's reader must load exactly; the test also writes the same tensors and reads them back here.
try:
    from safetensors.torch import save_file
except ImportError:
    print("safetensors not installed: skipped test/engine/fixtures/reference.safetensors")
else:
    st = {
        "w": torch.arange(6, dtype=torch.float32).reshape(2, 3) / 7,
        "d": torch.tensor([1 / 3, -2.5], dtype=torch.float64),
        "i": torch.tensor([[-1, 2**40]], dtype=torch.int64),
        "b": torch.tensor([True, False, True]),
    }
    st_dest = os.path.join(os.path.dirname(dest), "reference.safetensors")
    save_file(st, st_dest, metadata={"step": "7", "note": "reference"})
    print(f"wrote {os.path.relpath(st_dest)}")
