using Lstm.Core.Interop;

namespace Lstm.Core.Tests;

/// <summary>Issue 13, item 13: loading is linear in the layer count.</summary>
public class LoadScalingTests
{
    [Fact]
    public void ADeepNarrowStack_ImportsAndRuns()
    {
        // L = 100,000, H = 1: with a scan per layer and role, packing took quadratic time (13.5 s at L = 20,000, so
        // minutes here); linear, it is a second or so. No timing assertion: the old code simply does not finish in
        // any reasonable test run. The weights make each layer pass its input on scaled by a known amount.
        const int layers = 100_000;
        var options = new RecurrentOptions(1, 1, Layers: layers, Cell: CellKind.Rnn);
        var tensors = ParameterLayout.For(options).Select(i => new NamedTensor(i.Name, i.Shape, Enumerable.Repeat(i.Role == ParameterRole.WeightIh ? 1f : 0f, i.Length).ToArray(), "F32")).ToList();
        ImportedNetwork imported = PyTorchImport.FromTensors(tensors);
        Assert.Equal(layers, imported.Options.Layers);
        // h = tanh(x) at every layer: the fixed point iteration x ← tanh(x) from 0.5 (in double, rounding aside).
        double expected = 0.5;
        for (int l = 0; l < layers; l++) expected = Math.Tanh(expected);
        SequenceOutput r = imported.Network.Forward([0.5f], 1, 1);
        // Float rounding over 100,000 tanh steps (each ≤ 2.5 ulp; the map barely contracts near 0) sums to ~3e-4 at most.
        Assert.Equal(expected, r.Output[0], 1e-3);
        Assert.Equal(layers, r.Hn.Length);
    }
}
