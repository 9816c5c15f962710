#!/usr/bin/python3
"""Writes tests/Lstm.Core.Tests/Fixtures/quantized/*.npz: float32 weights, inputs and outputs of small LSTM/RNN
networks, and the outputs of PyTorch's own dynamic int8 version of the same network, so the int8 and 16-bit tests
can bound their error against float32 by PyTorch's (issue 11). Run with Debian's python3-torch (PyTorch 1.13):

    /usr/bin/python3 tools/gen_quantized_fixtures.py 2>/dev/null   # qnnpack warns about reduce_range once per call

Each archive holds:
  meta          int64 [I, H, L, D, B, T, cell] (cell 0: LSTM, 1: tanh RNN)
  x             float32 [T, B, I]; the initial states are zeros
  <parameter>   float32 under its nn.LSTM / nn.RNN state_dict name (gate order i, f, g, o)
  y, hn, cn     float32 outputs of the float32 network (cn absent for an RNN)
  q_y, q_hn, q_cn   the same from torch.ao.quantization.quantize_dynamic(qint8), qnnpack engine
"""
import os
import numpy as np
import torch
import torch.nn as nn

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "Lstm.Core.Tests", "Fixtures", "quantized")

torch.backends.quantized.engine = "qnnpack"
torch.set_num_threads(1)


def quantized(module):
    # quantize_dynamic swaps submodules only, never the root: wrap the module so that it is a child.
    wrapped = torch.ao.quantization.quantize_dynamic(nn.Sequential(module), {type(module)}, dtype=torch.qint8)
    assert type(wrapped[0]) is not type(module), "not quantized"
    return wrapped[0]


def lstm_case(name, i, h, layers, bidirectional, t, b, bound, seed):
    torch.manual_seed(seed)
    net = nn.LSTM(i, h, num_layers=layers, bidirectional=bidirectional)
    with torch.no_grad():
        for p in net.parameters():
            p.uniform_(-bound, bound)
    x = torch.randn(t, b, i)
    with torch.no_grad():
        y, (hn, cn) = net(x)
        qy, (qhn, qcn) = quantized(net)(x)
    arrays = {k: v.detach().numpy() for k, v in net.state_dict().items()}
    d = 2 if bidirectional else 1
    arrays.update(meta=np.array([i, h, layers, d, b, t, 0], dtype=np.int64), x=x.numpy(),
                  y=y.numpy(), hn=hn.numpy(), cn=cn.numpy(), q_y=qy.numpy(), q_hn=qhn.numpy(), q_cn=qcn.numpy())
    save(name, arrays)


def rnn_case(name, i, h, t, b, bound, seed):
    # PyTorch 1.13 quantizes nn.RNNCell dynamically but not nn.RNN: one layer of nn.RNN is that cell stepped over time.
    torch.manual_seed(seed)
    cell = nn.RNNCell(i, h, nonlinearity="tanh")
    with torch.no_grad():
        for p in cell.parameters():
            p.uniform_(-bound, bound)
    qcell = quantized(cell)
    x = torch.randn(t, b, i)

    def run(c):
        hs, state = [], torch.zeros(b, h)
        with torch.no_grad():
            for step in range(t):
                state = c(x[step], state)
                hs.append(state)
        return torch.stack(hs), state.unsqueeze(0)

    y, hn = run(cell)
    qy, qhn = run(qcell)
    arrays = {k + "_l0": v.detach().numpy() for k, v in cell.state_dict().items()}
    arrays.update(meta=np.array([i, h, 1, 1, b, t, 1], dtype=np.int64), x=x.numpy(),
                  y=y.numpy(), hn=hn.numpy(), q_y=qy.numpy(), q_hn=qhn.numpy())
    save(name, arrays)


def save(name, arrays):
    path = os.path.join(OUT, name + ".npz")
    np.savez(path, **{k: np.ascontiguousarray(v) for k, v in arrays.items()})
    for k in ("y", "hn", "cn"):
        if k in arrays:
            e = arrays["q_" + k].astype(np.float64) - arrays[k]
            print(f"{name} {k}: torch int8 rms {np.sqrt(np.mean(e * e)):.3e} max {np.abs(e).max():.3e} (|{k}| up to {np.abs(arrays[k]).max():.3f})")


if __name__ == "__main__":
    os.makedirs(OUT, exist_ok=True)
    print("torch", torch.__version__, "engine", torch.backends.quantized.engine)
    # The case: 1 layer, I = 128, H = 256, T = 50, B = 1, weights U(-1/16, 1/16).
    lstm_case("lstm_i128_h256", 128, 256, 1, False, 50, 1, 1 / 16, 11)
    lstm_case("lstm_stack2", 48, 96, 2, False, 30, 2, 1 / 8, 12)
    lstm_case("lstm_bidir", 40, 64, 1, True, 25, 3, 1 / 8, 13)
    rnn_case("rnn_i64_h128", 64, 128, 40, 2, 1 / 12, 14)
