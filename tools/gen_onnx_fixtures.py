#!/usr/bin/python3
"""Writes tests/Lstm.Onnx.Tests/Fixtures/pytorch/*: small recurrent models as PyTorch's own ONNX exporter writes them
(torch.onnx.export, opset 14), each with an input and PyTorch's outputs, so the tests can import them and compare with
ONNX Runtime (which the tests run; this script needs no ONNX Runtime). Run with Debian's python3-torch (PyTorch 1.13)
and python3-onnx:

    /usr/bin/python3 tools/gen_onnx_fixtures.py

For each NAME: NAME.onnx, and NAME.npz holding x (and h0, c0 where the model takes them) and PyTorch's y, hn, cn.
"""
import os
import numpy as np
import torch
import torch.nn as nn
import onnx

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "Lstm.Onnx.Tests", "Fixtures", "pytorch")
torch.set_num_threads(1)


class WithState(nn.Module):
    """The module called with an explicit initial state, so that the exporter makes it a graph input."""

    def __init__(self, rnn):
        super().__init__()
        self.rnn = rnn

    def forward(self, x, *state):
        if not state:
            return self.rnn(x)
        return self.rnn(x, state[0] if len(state) == 1 else tuple(state))


def case(name, module, x, state, seed):
    torch.manual_seed(seed)
    with torch.no_grad():
        for p in module.parameters():
            p.uniform_(-0.5, 0.5)
    module.eval()
    wrapped = WithState(module)
    with torch.no_grad():
        y, s = wrapped(x, *state)
    hn, cn = (s if isinstance(s, tuple) else (s, None))
    names = ["x"] + (["h0", "c0"][: len(state)])
    outputs = ["y", "hn"] + (["cn"] if cn is not None else [])
    path = os.path.join(OUT, name + ".onnx")
    torch.onnx.export(wrapped, (x, *state), path, input_names=names, output_names=outputs, opset_version=14,
                      do_constant_folding=True)
    onnx.checker.check_model(onnx.load(path))
    arrays = {"x": x.numpy(), "y": y.numpy(), "hn": hn.numpy()}
    for n, v in zip(names[1:], state):
        arrays[n] = v.numpy()
    if cn is not None:
        arrays["cn"] = cn.numpy()
    np.savez(os.path.join(OUT, name + ".npz"), **arrays)
    print(name, [(n.name, n.op_type) for n in onnx.load(path).graph.node])


def main():
    os.makedirs(OUT, exist_ok=True)
    torch.manual_seed(1)
    t, b = 6, 3
    # A 2-layer bidirectional LSTM with h0 and c0: two LSTM nodes chained by the exporter's Transpose/Reshape.
    x = torch.randn(t, b, 5)
    h0, c0 = torch.randn(4, b, 4), torch.randn(4, b, 4)
    case("lstm_2layer_bidirectional", nn.LSTM(5, 4, num_layers=2, bidirectional=True), x, (h0, c0), 2)
    # One batch-first layer, no initial state given.
    case("lstm_batch_first", nn.LSTM(5, 7, batch_first=True), torch.randn(b, t, 5), (), 3)
    # The tanh RNN, with h0.
    case("rnn_tanh", nn.RNN(3, 5), torch.randn(t, b, 3), (torch.randn(1, b, 5),), 4)
    # A GRU (imported once GRU cells exist in Lstm.Core; refused with a clear message until then).
    case("gru", nn.GRU(4, 3), torch.randn(t, b, 4), (torch.randn(1, b, 3),), 5)


if __name__ == "__main__":
    main()
