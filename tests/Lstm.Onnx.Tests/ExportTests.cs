using Lstm.Core;

namespace Lstm.Onnx.Tests;

/// <summary>Networks written by <see cref="OnnxExport"/> run in ONNX Runtime 1.31 with the outputs Forward gives.</summary>
public class ExportTests
{
    public static TheoryData<string> Variants() => [.. Cases.Keys];

    private static readonly Dictionary<string, RecurrentOptions> Cases = new()
    {
        ["lstm"] = new(5, 7),
        ["lstm 2 layers bidirectional"] = new(5, 6, Layers: 2, Bidirectional: true),
        ["lstm batch-first 3 layers"] = new(4, 5, Layers: 3, BatchFirst: true),
        ["lstm peepholes bidirectional batch-first"] = new(3, 4, Layers: 2, Bidirectional: true, BatchFirst: true, Peepholes: true),
        ["rnn"] = new(6, 9, Cell: CellKind.Rnn),
        ["rnn 2 layers bidirectional batch-first"] = new(6, 3, Layers: 2, Bidirectional: true, BatchFirst: true, Cell: CellKind.Rnn),
        ["gru"] = new(5, 7, Cell: CellKind.Gru),
        ["gru 2 layers bidirectional batch-first"] = new(4, 5, Layers: 2, Bidirectional: true, BatchFirst: true, Cell: CellKind.Gru),
        ["gru reset before the product (linear_before_reset = 0)"] = new(4, 6, Layers: 2, Bidirectional: true, Cell: CellKind.Gru, LinearBeforeReset: false),
    };

    internal static float[] Random(int n, int seed, float scale = 1)
    {
        var r = new Random(seed);
        return [.. Enumerable.Range(0, n).Select(_ => (float)((r.NextDouble() * 2) - 1) * scale)];
    }

    [Theory]
    [MemberData(nameof(Variants))]
    public void Exported_RunsInOnnxRuntime_WithOurOutputs(string variant)
    {
        RecurrentOptions o = Cases[variant];
        using var net = RecurrentNetwork.Create(o, seed: 11);
        const int T = 7, B = 3;
        float[] x = Random(T * B * o.InputSize, 5);
        SequenceOutput ours = net.Forward(x, T, B);

        var ort = Ort.Run(OnnxExport.ToBytes(net), ("x", x, o.BatchFirst ? [B, T, o.InputSize] : [T, B, o.InputSize]));

        Assert.Equal(o.BatchFirst ? new long[] { B, T, o.OutputSize } : [T, B, o.OutputSize], ort["y"].Shape);
        Assert.Equal(new long[] { o.Directions * o.Layers, B, o.HiddenSize }, ort["hn"].Shape);
        Agreement.Equal(ort["y"].Values, ours.Output, "y");
        Agreement.Equal(ort["hn"].Values, ours.Hn, "hn");
        if (o.Cell == CellKind.Lstm) Agreement.Equal(ort["cn"].Values, ours.Cn, "cn");
        else Assert.False(ort.ContainsKey("cn"));
    }

    [Theory]
    [MemberData(nameof(Variants))]
    public void ExportedWithInitialState_TakesH0AndC0_AsPyTorchsDoes(string variant)
    {
        RecurrentOptions o = Cases[variant];
        using var net = RecurrentNetwork.Create(o, seed: 12);
        const int T = 5, B = 2;
        int states = o.Directions * o.Layers;
        float[] x = Random(T * B * o.InputSize, 6), h0 = Random(states * B * o.HiddenSize, 7), c0 = Random(states * B * o.HiddenSize, 8);
        bool lstm = o.Cell == CellKind.Lstm;
        SequenceOutput ours = net.Forward(x, T, B, h0, lstm ? c0 : default);

        long[] stateShape = [states, B, o.HiddenSize];
        var inputs = new List<(string, float[], long[])> { ("x", x, o.BatchFirst ? [B, T, o.InputSize] : [T, B, o.InputSize]), ("h0", h0, stateShape) };
        if (lstm) inputs.Add(("c0", c0, stateShape));
        var ort = Ort.Run(OnnxExport.ToBytes(net, initialState: true), [.. inputs]);

        Agreement.Equal(ort["y"].Values, ours.Output, "y");
        Agreement.Equal(ort["hn"].Values, ours.Hn, "hn");
        if (lstm) Agreement.Equal(ort["cn"].Values, ours.Cn, "cn");
    }

    [Fact]
    public void Write_GoesThroughATemporaryFile_AndReadsBackAsTheSameLayers()
    {
        using var net = RecurrentNetwork.Create(new RecurrentOptions(4, 3, Layers: 2, Bidirectional: true), seed: 2);
        string dir = Directory.CreateTempSubdirectory("lstm-onnx-").FullName;
        try
        {
            string path = Path.Combine(dir, "model.onnx");
            OnnxExport.Write(net, path);
            Assert.Equal([path], Directory.GetFiles(dir)); // no temporary file left beside it
            Assert.Equal(OnnxExport.ToBytes(net), File.ReadAllBytes(path));

            OnnxGraphSummary summary = OnnxImport.Inspect(path);
            Assert.Equal(["lstm_l0 (LSTM)", "lstm_l1 (LSTM)"], summary.RecurrentNodes.Select(n => n.ToString()));
            Assert.Contains(summary.OtherNodes, n => n.OpType == "Transpose");
            // Each layer's node imports as that layer: its weights are ours, bit for bit.
            using OnnxRecurrentModel l1 = OnnxImport.Load(path, "lstm_l1");
            foreach (string name in new[] { "weight_ih", "weight_hh", "bias_ih", "bias_hh" })
            {
                Assert.Equal(net.GetParameter(name + "_l1"), l1.Network.GetParameter(name + "_l0"));
                Assert.Equal(net.GetParameter(name + "_l1_reverse"), l1.Network.GetParameter(name + "_l0_reverse"));
            }
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void ANetworkWithoutForgetGate_IsRefused_NamingWhy()
    {
        using var net = RecurrentNetwork.Create(new RecurrentOptions(2, 2, ForgetGate: false), seed: 1);
        var e = Assert.Throws<NotSupportedException>(() => OnnxExport.ToBytes(net));
        Assert.Contains("forget gate", e.Message, StringComparison.Ordinal);
    }
}
