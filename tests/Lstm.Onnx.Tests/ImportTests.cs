using Google.Protobuf;
using Lstm.Core;
using AttributeType = Lstm.Onnx.Proto.AttributeProto.Types.AttributeType;
using Lstm.Onnx.Proto;

namespace Lstm.Onnx.Tests;

/// <summary>Hand-made LSTM, RNN and GRU nodes with every attribute and optional input: our import runs them as ONNX Runtime does.</summary>
public class ImportTests
{
    public static TheoryData<string, string, int, bool> Cases()
    {
        var data = new TheoryData<string, string, int, bool>();
        foreach (string op in new[] { "LSTM", "RNN", "GRU", "GRU-lbr1" })
        {
            foreach (string direction in new[] { "forward", "reverse", "bidirectional" })
            {
                foreach (int layout in new[] { 0, 1 })
                {
                    data.Add(op, direction, layout, false);
                    data.Add(op, direction, layout, true);
                }
            }
        }
        return data;
    }

    private static OnnxRecurrentModel Import(byte[] model) => OnnxImport.Load(new MemoryStream(model));

    [Theory]
    [MemberData(nameof(Cases))]
    public void HandMadeNode_MatchesOnnxRuntime(string op, string direction, int layout, bool everything)
    {
        // "GRU-lbr1": linear_before_reset = 1 (PyTorch's GRU); "GRU" writes 0 when everything is written out, else
        // leaves it to ONNX's default, 0.
        int? linearBeforeReset = op == "GRU-lbr1" ? 1 : op == "GRU" && everything ? 0 : null;
        op = op.Replace("-lbr1", "", StringComparison.Ordinal);
        var m = new NodeModel
        {
            Op = op, Direction = direction, Layout = layout, Seed = layout + (everything ? 7 : 0), LinearBeforeReset = linearBeforeReset,
            Peepholes = everything && op == "LSTM", InitialState = everything, Lengths = everything, ExplicitDefaults = everything,
        };
        float[] x = ExportTests.Random(m.Steps * m.Batch * m.Input, 3);
        using OnnxRecurrentModel ours = Import(m.Bytes());
        Assert.Equal(direction switch { "reverse" => OnnxDirection.Reverse, "bidirectional" => OnnxDirection.Bidirectional, _ => OnnxDirection.Forward }, ours.Direction);
        Assert.Equal(layout, ours.Layout);
        Assert.Equal(m.Peepholes, ours.Network.Options.Peepholes);
        if (op == "GRU") Assert.Equal(linearBeforeReset == 1, ours.Network.Options.LinearBeforeReset);
        OnnxOutputs r = ours.Run(x, m.Steps, m.Batch);

        var expected = OrtOutputs(m, x);
        Assert.Equal(expected["Y"].Shape, r.YShape.Select(v => (long)v));
        Assert.Equal(expected["Y_h"].Shape, r.StateShape.Select(v => (long)v));
        Agreement.Equal(expected["Y"].Values, r.Y, "Y");
        Agreement.Equal(expected["Y_h"].Values, r.YH, "Y_h");
        if (op == "LSTM") Agreement.Equal(expected["Y_c"].Values, r.YC, "Y_c");
        else Assert.Empty(r.YC);
    }

    [Theory]
    [InlineData("forward", false)]
    [InlineData("bidirectional", true)]
    public void ReluRnnNode_MatchesOnnxRuntime(string direction, bool everything)
    {
        // activations = [Relu] per direction: Lstm.Core's ReLU RNN (issue 14), which used to be refused here.
        var m = new NodeModel
        {
            Op = "RNN", Direction = direction, Seed = 11, InitialState = everything, Lengths = everything, ExplicitDefaults = false,
        };
        var acts = new AttributeProto { Name = "activations", Type = AttributeType.Strings };
        for (int d = 0; d < (direction == "bidirectional" ? 2 : 1); d++) acts.Strings.Add(ByteString.CopyFromUtf8("Relu"));
        m.ExtraAttributes.Add(acts);
        float[] x = ExportTests.Random(m.Steps * m.Batch * m.Input, 5);
        using OnnxRecurrentModel ours = Import(m.Bytes());
        Assert.Equal(RnnNonlinearity.Relu, ours.Network.Options.Nonlinearity);
        OnnxOutputs r = ours.Run(x, m.Steps, m.Batch);
        var expected = OrtOutputs(m, x);
        Agreement.Equal(expected["Y"].Values, r.Y, "Y");
        Agreement.Equal(expected["Y_h"].Values, r.YH, "Y_h");
    }

    [Theory]
    [InlineData("LSTM", "forward", 0)]
    [InlineData("LSTM", "reverse", 0)]
    [InlineData("LSTM", "bidirectional", 0)]
    [InlineData("LSTM", "bidirectional", 1)]
    [InlineData("RNN", "reverse", 1)]
    [InlineData("RNN", "bidirectional", 0)]
    [InlineData("GRU", "forward", 0, 0)]
    [InlineData("GRU", "reverse", 1, 0)]
    [InlineData("GRU", "bidirectional", 0, 0)]
    [InlineData("GRU", "bidirectional", 1, 0)]
    [InlineData("GRU", "forward", 1, 1)]
    [InlineData("GRU", "reverse", 0, 1)]
    [InlineData("GRU", "bidirectional", 0, 1)]
    [InlineData("GRU", "bidirectional", 1, 1)]
    public void RaggedSequenceLens_MatchOnnxRuntime(string op, string direction, int layout, int? linearBeforeReset = null)
    {
        // Rows that end early (and one at T): Lstm.Core's variable-length batches; a reverse direction starts at each
        // row's last valid step. Not 0: ONNX leaves a row with no steps unspecified (PyTorch refuses one).
        var probe = new NodeModel { Op = op };
        int[] lengths = [.. Enumerable.Range(0, probe.Batch).Select(b => b switch { 0 => probe.Steps, 1 => 1, _ => 3 })];
        var m = new NodeModel
        {
            Op = op, Direction = direction, Layout = layout, Seed = 13, Lengths = true, LengthValues = lengths, InitialState = true, LinearBeforeReset = linearBeforeReset,
        };
        float[] x = ExportTests.Random(m.Steps * m.Batch * m.Input, 9);
        using OnnxRecurrentModel ours = Import(m.Bytes());
        OnnxOutputs r = ours.Run(x, m.Steps, m.Batch);
        var expected = OrtOutputs(m, x);
        Agreement.Equal(expected["Y"].Values, r.Y, "Y");
        Agreement.Equal(expected["Y_h"].Values, r.YH, "Y_h");
        if (op == "LSTM") Agreement.Equal(expected["Y_c"].Values, r.YC, "Y_c");
    }

    // ONNX Runtime's CPU kernels refuse layout = 1 ("batchwise recurrent operations"), so a layout-1 model is checked
    // against the same node with layout 0 on the transposed input, its outputs transposed back: ONNX's own definition.
    private static Dictionary<string, (float[] Values, long[] Shape)> OrtOutputs(NodeModel m, float[] x)
    {
        if (m.Layout == 0) return Ort.Run(m.Bytes(), ("X", x, m.XShape));
        var timeMajor = new NodeModel
        {
            Op = m.Op, Direction = m.Direction, Layout = 0, Seed = m.Seed, Peepholes = m.Peepholes, Lengths = m.Lengths, LengthValues = m.LengthValues,
            LinearBeforeReset = m.LinearBeforeReset,
            ExplicitDefaults = m.ExplicitDefaults, InitialState = false,
        };
        int d = m.Directions;
        var inputs = new List<(string, float[], long[])> { ("X", OnnxRecurrentModel.Transpose01(x, m.Batch, m.Steps, m.Input), timeMajor.XShape) };
        byte[] model = timeMajor.Bytes();
        if (m.InitialState)
        {
            // The layout-1 model's stored [B, D, H] states, fed as [D, B, H] graph inputs of the layout-0 model.
            ModelProto withState = timeMajor.Build();
            NodeProto node = withState.Graph.Node[0];
            while (node.Input.Count < 7) node.Input.Add("");
            node.Input[5] = "initial_h";
            withState.Graph.Input.Add(NodeModel.Value("initial_h", [d, m.Batch, m.Hidden]));
            inputs.Add(("initial_h", OnnxRecurrentModel.Transpose01(m.H0, m.Batch, d, m.Hidden), [d, m.Batch, m.Hidden]));
            if (m.Op == "LSTM")
            {
                node.Input[6] = "initial_c";
                withState.Graph.Input.Add(NodeModel.Value("initial_c", [d, m.Batch, m.Hidden]));
                inputs.Add(("initial_c", OnnxRecurrentModel.Transpose01(m.C0, m.Batch, d, m.Hidden), [d, m.Batch, m.Hidden]));
            }
            if (m.Op != "LSTM") while (node.Input.Count > 6) node.Input.RemoveAt(node.Input.Count - 1);
            model = Google.Protobuf.MessageExtensions.ToByteArray(withState);
        }
        var r = Ort.Run(model, [.. inputs]);
        var (y, ys) = r["Y"];
        var result = new Dictionary<string, (float[], long[])>
        {
            // [T, D, B, H] → [B, T, D, H]
            ["Y"] = (Permute(y, [ys[0], ys[1], ys[2], ys[3]], [2, 0, 1, 3]), [ys[2], ys[0], ys[1], ys[3]]),
        };
        foreach (string s in m.Op == "LSTM" ? new[] { "Y_h", "Y_c" } : ["Y_h"])
        {
            result[s] = (OnnxRecurrentModel.Transpose01(r[s].Values, d, m.Batch, m.Hidden), [m.Batch, d, m.Hidden]);
        }
        return result;
    }

    // out[idx permuted] = in[idx]: axes of the result are the input's axes in the order `order`.
    private static float[] Permute(float[] a, long[] shape, int[] order)
    {
        int n0 = (int)shape[0], n1 = (int)shape[1], n2 = (int)shape[2], n3 = (int)shape[3];
        long[] outShape = [.. order.Select(o => shape[o])];
        float[] r = new float[a.Length];
        for (int i = 0; i < n0; i++)
            for (int j = 0; j < n1; j++)
                for (int k = 0; k < n2; k++)
                    for (int l = 0; l < n3; l++)
                    {
                        int[] idx = [i, j, k, l];
                        long at = 0;
                        foreach (int o in order) at = (at * shape[o]) + idx[o];
                        r[at] = a[(((((i * n1) + j) * n2) + k) * n3) + l];
                    }
        _ = outShape;
        return r;
    }
}
