#!/usr/bin/python3
"""Writes tests/Lstm.Core.Tests/Fixtures/gru/*.npz: PyTorch nn.GRU reference vectors (outputs and every gradient, float32
and float64) for the GRU tests (issue 14, item 1). Run with Debian's python3-torch (PyTorch 1.13):

    /usr/bin/python3 tools/gen_gru_fixtures.py

Each <case>_{f32,f64}.npz holds:
  meta          int64 [I, H, L, D, B, T, batch_first]
  x             [T, B, I] ([B, T, I] when batch_first); h0 [D*L, B, H]
  <parameter>   under its nn.GRU state_dict name: weight_ih_l{k} [3H, in], weight_hh_l{k} [3H, H], bias_ih_l{k},
                bias_hh_l{k} [3H], suffix _reverse for the second direction; gate order r, z, n
  y             [T, B, D*H] ([B, T, D*H] when batch_first); hn [D*L, B, H]
  dy, dhn       the upstream gradients of the loss sum(y*dy) + sum(hn*dhn)
  grad_x, grad_h0, grad_<parameter>   that loss's gradients by autograd
<case>_state_dict.npz is the float32 state_dict of a model holding the GRU as `gru.` beside a `fc.` Linear, as
numpy.savez(**{k: v.numpy() for k, v in model.state_dict().items()}) writes it (for the importer).
Weights U(-0.5, 0.5); x N(0, 1); h0 and the upstream gradients N(0, 0.25) and N(0, 1).
"""
import os
import numpy as np
import torch
import torch.nn as nn

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "Lstm.Core.Tests", "Fixtures", "gru")
torch.set_num_threads(1)


class Model(nn.Module):
    def __init__(self, i, h, layers, bidirectional, batch_first):
        super().__init__()
        self.gru = nn.GRU(i, h, num_layers=layers, bidirectional=bidirectional, batch_first=batch_first)
        self.fc = nn.Linear(h * (2 if bidirectional else 1), 3)


def case(name, i, h, layers, bidirectional, b, t, batch_first, seed):
    d = 2 if bidirectional else 1
    torch.manual_seed(seed)
    model = Model(i, h, layers, bidirectional, batch_first)
    with torch.no_grad():
        for p in model.parameters():
            p.uniform_(-0.5, 0.5)
    x = torch.randn(b, t, i) if batch_first else torch.randn(t, b, i)
    h0 = torch.randn(d * layers, b, h) * 0.5
    dy = torch.randn(b, t, d * h) if batch_first else torch.randn(t, b, d * h)
    dhn = torch.randn(d * layers, b, h)
    for dtype, suffix in ((torch.float32, "f32"), (torch.float64, "f64")):
        gru = model.gru.to(dtype)
        gru.zero_grad()
        xs = x.detach().to(dtype).clone().requires_grad_(True)
        h0s = h0.detach().to(dtype).clone().requires_grad_(True)
        y, hn = gru(xs, h0s)
        ((y * dy.to(dtype)).sum() + (hn * dhn.to(dtype)).sum()).backward()
        arrays = {k: v.detach().numpy() for k, v in gru.state_dict().items()}
        arrays.update(meta=np.array([i, h, layers, d, b, t, int(batch_first)], dtype=np.int64),
                      x=xs.detach().numpy(), h0=h0s.detach().numpy(), y=y.detach().numpy(), hn=hn.detach().numpy(),
                      dy=dy.to(dtype).numpy(), dhn=dhn.to(dtype).numpy(),
                      grad_x=xs.grad.numpy(), grad_h0=h0s.grad.numpy())
        for k, p in gru.named_parameters():
            arrays["grad_" + k] = p.grad.numpy()
        save(f"{name}_{suffix}", arrays)
    model.float()
    save(f"{name}_state_dict", {k: v.detach().numpy() for k, v in model.state_dict().items()})


def save(name, arrays):
    np.savez(os.path.join(OUT, name + ".npz"), **{k: np.ascontiguousarray(v) for k, v in arrays.items()})


if __name__ == "__main__":
    os.makedirs(OUT, exist_ok=True)
    print("torch", torch.__version__)
    case("tiny", 5, 7, 1, False, 3, 6, False, 21)
    case("stack_bidir", 6, 10, 2, True, 2, 7, False, 22)
    case("batch_first", 4, 6, 2, False, 3, 5, True, 23)
    for f in sorted(os.listdir(OUT)):
        print(f, os.path.getsize(os.path.join(OUT, f)), "bytes")
