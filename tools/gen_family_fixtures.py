#!/usr/bin/python3
"""Writes tests/Lstm.Core.Tests/Fixtures/family/*.npz: PyTorch 1.13's outputs and every gradient for the rest of the
recurrent family (issue 14): ReLU RNNs, bias=False, the cell modules run over a sequence, variable-length batches
(pack_padded_sequence, enforce_sorted=False; LSTM, RNN and GRU) and LSTM projections. Run with Debian's python3-torch:

    /usr/bin/python3 tools/gen_family_fixtures.py

Each <case>_{f32,f64}.npz holds (float arrays in that precision):
  meta          int64 [I, H, L, D, B, T, cell, relu, bias, proj]  (cell 0: LSTM, 1: RNN, 2: GRU; proj 0: none)
  lengths       int64 [B] (the valid steps of each batch row; T for every row when the case has no lengths)
  x             [T, B, I]; h0 [D·L, B, Hout], c0 [D·L, B, H] (LSTM), Hout = proj or H
  y             [T, B, D·Hout], zero past each row's length; hn [D·L, B, Hout]; cn [D·L, B, H]
  <parameter>   under its state_dict name, prefixed "model." so that the import finds the module by its prefix
  dy, dhn, dcn  the upstream gradients: the loss is sum(y·dy) + sum(hn·dhn) + sum(cn·dcn)
  grad_x, grad_h0, grad_c0, grad_<parameter>   PyTorch autograd's gradients of that loss

Cell-module cases (nn.LSTMCell, nn.RNNCell) run the cell over the T steps in a Python loop: h0/c0 are [1, B, H],
y stacks the T states, hn/cn are the last; the parameters are the cell's keys (weight_ih, no _l0).
multi.npz holds two modules' state_dicts ("encoder.rnn." an nn.LSTM, "decoder.rnn." an nn.RNN) for the prefix tests.
Weights U(-0.5, 0.5), x N(0, 1), h0/c0 N(0, 0.25), the upstream gradients N(0, 1); seeds fixed per case.
"""
import os
import numpy as np
import torch
import torch.nn as nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "Lstm.Core.Tests", "Fixtures", "family")
torch.set_num_threads(1)


def init(module, seed):
    torch.manual_seed(seed)
    with torch.no_grad():
        for p in module.parameters():
            p.uniform_(-0.5, 0.5)


def save(name, dtype, arrays):
    np.savez(os.path.join(OUT, f"{name}_{'f32' if dtype == torch.float32 else 'f64'}.npz"), **arrays)


def sequence_case(name, kind, i, h, layers, bidirectional, b, t, seed, relu=False, bias=True, proj=0, lengths=None):
    for dtype in (torch.float32, torch.float64):
        if kind == "lstm":
            net = nn.LSTM(i, h, num_layers=layers, bidirectional=bidirectional, bias=bias, proj_size=proj)
        elif kind == "gru":
            net = nn.GRU(i, h, num_layers=layers, bidirectional=bidirectional, bias=bias)
        else:
            net = nn.RNN(i, h, num_layers=layers, bidirectional=bidirectional, bias=bias,
                         nonlinearity="relu" if relu else "tanh")
        net = net.to(dtype)
        init(net, seed)
        d = 2 if bidirectional else 1
        hout = proj or h
        g = torch.Generator().manual_seed(seed + 1)
        x = torch.randn(t, b, i, generator=g, dtype=dtype).requires_grad_()
        h0 = (0.5 * torch.randn(d * layers, b, hout, generator=g, dtype=dtype)).requires_grad_()
        c0 = (0.5 * torch.randn(d * layers, b, h, generator=g, dtype=dtype)).requires_grad_()
        lens = lengths if lengths is not None else [t] * b
        if lengths is not None:
            packed = pack_padded_sequence(x, torch.tensor(lens), enforce_sorted=False)
            out, state = net(packed, (h0, c0) if kind == "lstm" else h0)
            y, _ = pad_packed_sequence(out, total_length=t)
        else:
            y, state = net(x, (h0, c0) if kind == "lstm" else h0)
        hn, cn = state if kind == "lstm" else (state, None)
        dy = torch.randn(y.shape, generator=g, dtype=dtype)
        dhn = torch.randn(hn.shape, generator=g, dtype=dtype)
        loss = (y * dy).sum() + (hn * dhn).sum()
        arrays = {}
        if cn is not None:
            dcn = torch.randn(cn.shape, generator=g, dtype=dtype)
            loss = loss + (cn * dcn).sum()
            arrays.update(c0=c0.detach().numpy(), cn=cn.detach().numpy(), dcn=dcn.numpy())
        loss.backward()
        arrays.update(
            meta=np.array([i, h, layers, d, b, t, {"lstm": 0, "rnn": 1, "gru": 2}[kind], int(relu), int(bias), proj], dtype=np.int64),
            lengths=np.array(lens, dtype=np.int64),
            x=x.detach().numpy(), h0=h0.detach().numpy(), y=y.detach().numpy(), hn=hn.detach().numpy(),
            dy=dy.numpy(), dhn=dhn.numpy(), grad_x=x.grad.numpy(), grad_h0=h0.grad.numpy())
        if cn is not None:
            arrays["grad_c0"] = c0.grad.numpy()
        for pname, p in net.named_parameters():
            arrays["model." + pname] = p.detach().numpy()
            arrays["grad_" + pname] = p.grad.numpy()
        save(name, dtype, arrays)


def cell_case(name, kind, i, h, b, t, seed):
    for dtype in (torch.float32, torch.float64):
        cell = {"lstm": nn.LSTMCell, "gru": nn.GRUCell, "rnn": nn.RNNCell}[kind](i, h).to(dtype)
        init(cell, seed)
        g = torch.Generator().manual_seed(seed + 1)
        x = torch.randn(t, b, i, generator=g, dtype=dtype).requires_grad_()
        h0 = (0.5 * torch.randn(1, b, h, generator=g, dtype=dtype)).requires_grad_()
        c0 = (0.5 * torch.randn(1, b, h, generator=g, dtype=dtype)).requires_grad_()
        hs, hc, cc = [], h0[0], c0[0]
        for s in range(t):
            if kind == "lstm":
                hc, cc = cell(x[s], (hc, cc))
            else:
                hc = cell(x[s], hc)
            hs.append(hc)
        y = torch.stack(hs)
        hn, cn = hc.unsqueeze(0), cc.unsqueeze(0)
        dy = torch.randn(y.shape, generator=g, dtype=dtype)
        dhn = torch.randn(hn.shape, generator=g, dtype=dtype)
        loss = (y * dy).sum() + (hn * dhn).sum()
        arrays = {}
        if kind == "lstm":
            dcn = torch.randn(cn.shape, generator=g, dtype=dtype)
            loss = loss + (cn * dcn).sum()
            arrays.update(c0=c0.detach().numpy(), cn=cn.detach().numpy(), dcn=dcn.numpy())
        loss.backward()
        arrays.update(
            meta=np.array([i, h, 1, 1, b, t, {"lstm": 0, "rnn": 1, "gru": 2}[kind], 0, 1, 0], dtype=np.int64),
            lengths=np.array([t] * b, dtype=np.int64),
            x=x.detach().numpy(), h0=h0.detach().numpy(), y=y.detach().numpy(), hn=hn.detach().numpy(),
            dy=dy.numpy(), dhn=dhn.numpy(), grad_x=x.grad.numpy(), grad_h0=h0.grad.numpy())
        if kind == "lstm":
            arrays["grad_c0"] = c0.grad.numpy()
        for pname, p in cell.named_parameters():
            arrays["model." + pname] = p.detach().numpy()
            arrays["grad_" + pname] = p.grad.numpy()
        save(name, dtype, arrays)


def multi_case():
    torch.manual_seed(7)
    enc, dec = nn.LSTM(3, 4), nn.RNN(4, 2)
    arrays = {"encoder.rnn." + k: v.numpy() for k, v in enc.state_dict().items()}
    arrays.update({"decoder.rnn." + k: v.numpy() for k, v in dec.state_dict().items()})
    arrays["head.weight"] = np.ones((2, 2), dtype=np.float32)
    np.savez(os.path.join(OUT, "multi.npz"), **arrays)


if __name__ == "__main__":
    os.makedirs(OUT, exist_ok=True)
    sequence_case("rnn_relu", "rnn", 5, 7, 2, True, 3, 6, seed=1, relu=True)
    sequence_case("lstm_nobias", "lstm", 5, 6, 2, True, 2, 5, seed=2, bias=False)
    sequence_case("rnn_relu_nobias", "rnn", 4, 5, 1, False, 3, 6, seed=3, relu=True, bias=False)
    cell_case("lstmcell", "lstm", 5, 7, 3, 4, seed=4)
    cell_case("rnncell", "rnn", 4, 6, 2, 5, seed=5)
    cell_case("grucell", "gru", 5, 6, 3, 4, seed=6)
    sequence_case("lstm_lengths", "lstm", 4, 5, 2, True, 4, 7, seed=6, lengths=[5, 7, 1, 3])
    sequence_case("lstm_lengths_uni", "lstm", 3, 6, 2, False, 5, 6, seed=7, lengths=[2, 6, 6, 4, 1])
    sequence_case("rnn_lengths", "rnn", 3, 4, 1, True, 3, 5, seed=8, lengths=[3, 5, 2])
    sequence_case("lstm_proj", "lstm", 5, 7, 2, True, 3, 6, seed=9, proj=3)
    sequence_case("lstm_proj_uni", "lstm", 4, 6, 1, False, 2, 5, seed=10, proj=4)
    sequence_case("lstm_proj_lengths", "lstm", 4, 6, 2, True, 3, 5, seed=11, proj=2, lengths=[2, 5, 4])
    sequence_case("gru_lengths", "gru", 4, 5, 2, True, 4, 7, seed=12, lengths=[5, 7, 1, 3])
    sequence_case("gru_lengths_uni_nobias", "gru", 3, 6, 2, False, 5, 6, seed=13, bias=False, lengths=[2, 6, 6, 4, 1])
    multi_case()
