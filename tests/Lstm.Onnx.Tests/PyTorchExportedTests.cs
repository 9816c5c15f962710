using Lstm.Core.NumPy;
using Lstm.Tests.Shared;

namespace Lstm.Onnx.Tests;

/// <summary>
/// Models written by PyTorch 1.13's exporter (Fixtures/pytorch, from tools/gen_onnx_fixtures.py): their recurrent nodes
/// import and, run with the inputs the graph would give them, match ONNX Runtime on the whole model and PyTorch.
/// </summary>
public class PyTorchExportedTests
{
    private static string Fixture(string name) => Path.Combine(Repository.Root(), "tests", "Lstm.Onnx.Tests", "Fixtures", "pytorch", name);

    private static (Dictionary<string, NpyArray> Arrays, byte[] Model) Load(string name) =>
        (Npz.Read(Fixture(name + ".npz")), File.ReadAllBytes(Fixture(name + ".onnx")));

    private static long[] Shape(NpyArray a) => [.. a.Shape.Select(v => (long)v)];

    [Fact]
    public void TanhRnn_WithH0AsAGraphInput()
    {
        var (a, model) = Load("rnn_tanh");
        float[] x = a["x"].ToSingle(), h0 = a["h0"].ToSingle();
        int steps = a["x"].Shape[0], batch = a["x"].Shape[1];
        using OnnxRecurrentModel ours = OnnxImport.Load(Fixture("rnn_tanh.onnx"));
        Assert.Equal("/rnn/RNN (RNN)", ours.Node.ToString());
        Assert.Equal(["initial_h: the graph input 'h0'"], ours.RuntimeInputs);
        Assert.Contains(ours.Graph.OtherNodes, n => n.OpType == "Squeeze");
        OnnxOutputs r = ours.Run(x, steps, batch, initialH: h0);

        var ort = Ort.Run(model, ("x", x, Shape(a["x"])), ("h0", h0, Shape(a["h0"])));
        Agreement.Equal(ort["y"].Values, r.Y, "y (ORT)");   // Y [T, 1, B, H] is y [T, B, H] with D = 1
        Agreement.Equal(ort["hn"].Values, r.YH, "hn (ORT)");
        Agreement.Equal(a["y"].ToSingle(), r.Y, "y (PyTorch)");
        Agreement.Equal(a["hn"].ToSingle(), r.YH, "hn (PyTorch)");
    }

    [Fact]
    public void BatchFirstLstm_TheNodeBetweenTheExportersTransposes()
    {
        var (a, model) = Load("lstm_batch_first");
        float[] x = a["x"].ToSingle();
        int batch = a["x"].Shape[0], steps = a["x"].Shape[1], input = a["x"].Shape[2];
        using OnnxRecurrentModel ours = OnnxImport.Load(Fixture("lstm_batch_first.onnx"), "/rnn/LSTM");
        Assert.Equal(0, ours.Layout); // PyTorch writes layout 0 and transposes x and y around the node
        Assert.Equal(2, ours.RuntimeInputs.Count); // initial_h and initial_c: zeros made by Expand nodes
        Assert.All(ours.RuntimeInputs, s => Assert.Contains("computed by Expand", s, StringComparison.Ordinal));
        OnnxOutputs r = ours.Run(OnnxRecurrentModel.Transpose01(x, batch, steps, input), steps, batch);
        int h = ours.Network.Options.HiddenSize;
        float[] yBatchFirst = OnnxRecurrentModel.Transpose01(r.Y, steps, batch, h);

        var ort = Ort.Run(model, ("x", x, Shape(a["x"])));
        Agreement.Equal(ort["y"].Values, yBatchFirst, "y (ORT)");
        Agreement.Equal(ort["hn"].Values, r.YH, "hn (ORT)");
        Agreement.Equal(ort["cn"].Values, r.YC, "cn (ORT)");
        Agreement.Equal(a["y"].ToSingle(), yBatchFirst, "y (PyTorch)");
    }

    [Fact]
    public void TwoLayerBidirectionalLstm_ItsTwoNodesChained()
    {
        var (a, model) = Load("lstm_2layer_bidirectional");
        float[] x = a["x"].ToSingle(), h0 = a["h0"].ToSingle(), c0 = a["c0"].ToSingle();
        int steps = a["x"].Shape[0], batch = a["x"].Shape[1];
        OnnxGraphSummary summary = OnnxImport.Inspect(Fixture("lstm_2layer_bidirectional.onnx"));
        Assert.Equal(["/rnn/LSTM", "/rnn/LSTM_1"], summary.RecurrentNodes.Select(n => n.Name));
        var refused = Assert.Throws<InvalidDataException>(() => OnnxImport.Load(Fixture("lstm_2layer_bidirectional.onnx")));
        Assert.Contains("(/rnn/LSTM (LSTM), /rnn/LSTM_1 (LSTM)); name one", refused.Message, StringComparison.Ordinal);

        int perLayer = 2 * batch * 4;
        float[] input = x, hn = new float[2 * perLayer], cn = new float[2 * perLayer];
        OnnxOutputs? last = null;
        for (int layer = 0; layer < 2; layer++)
        {
            using OnnxRecurrentModel node = OnnxImport.Load(Fixture("lstm_2layer_bidirectional.onnx"), layer == 0 ? "/rnn/LSTM" : "/rnn/LSTM_1");
            Assert.Equal(OnnxDirection.Bidirectional, node.Direction);
            last = node.Run(input, steps, batch, h0.AsSpan(layer * perLayer, perLayer), c0.AsSpan(layer * perLayer, perLayer));
            last.YH.CopyTo(hn, layer * perLayer);
            last.YC.CopyTo(cn, layer * perLayer);
            // What the exporter's Transpose and Reshape do: Y [T, 2, B, H] → [T, B, 2H].
            input = Permute0213(last.Y, steps, 2, batch, 4);
        }

        var ort = Ort.Run(model, ("x", x, Shape(a["x"])), ("h0", h0, Shape(a["h0"])), ("c0", c0, Shape(a["c0"])));
        Agreement.Equal(ort["y"].Values, input, "y (ORT)");
        Agreement.Equal(ort["hn"].Values, hn, "hn (ORT)");
        Agreement.Equal(ort["cn"].Values, cn, "cn (ORT)");
        Agreement.Equal(a["y"].ToSingle(), input, "y (PyTorch)");
        Agreement.Equal(a["cn"].ToSingle(), cn, "cn (PyTorch)");
    }

    [Fact]
    public void TwoLayerBidirectionalLstm_AsOneNetwork()
    {
        var (a, model) = Load("lstm_2layer_bidirectional");
        float[] x = a["x"].ToSingle(), h0 = a["h0"].ToSingle(), c0 = a["c0"].ToSingle();
        int steps = a["x"].Shape[0], batch = a["x"].Shape[1];
        using Lstm.Core.RecurrentNetwork net = OnnxImport.LoadLayers(Fixture("lstm_2layer_bidirectional.onnx"), ["/rnn/LSTM", "/rnn/LSTM_1"]);
        Assert.Equal(new Lstm.Core.RecurrentOptions(5, 4, Layers: 2, Bidirectional: true), net.Options);
        Lstm.Core.SequenceOutput r = net.Forward(x, steps, batch, h0, c0); // PyTorch's layouts: y [T, B, 2H], hn [2·2, B, H]

        var ort = Ort.Run(model, ("x", x, Shape(a["x"])), ("h0", h0, Shape(a["h0"])), ("c0", c0, Shape(a["c0"])));
        Agreement.Equal(ort["y"].Values, r.Output, "y (ORT)");
        Agreement.Equal(ort["hn"].Values, r.Hn, "hn (ORT)");
        Agreement.Equal(ort["cn"].Values, r.Cn, "cn (ORT)");
        Agreement.Equal(a["y"].ToSingle(), r.Output, "y (PyTorch)");

        // Out of order, the second layer cannot read the input.
        var e = Assert.Throws<InvalidDataException>(() => OnnxImport.LoadLayers(Fixture("lstm_2layer_bidirectional.onnx"), ["/rnn/LSTM_1", "/rnn/LSTM"]));
        Assert.Contains("cannot follow /rnn/LSTM_1 as layer 1", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Gru_WithH0AsAGraphInput()
    {
        var (a, model) = Load("gru");
        float[] x = a["x"].ToSingle(), h0 = a["h0"].ToSingle();
        int steps = a["x"].Shape[0], batch = a["x"].Shape[1];
        using OnnxRecurrentModel ours = OnnxImport.Load(Fixture("gru.onnx"));
        Assert.Equal("/rnn/GRU (GRU)", ours.Node.ToString());
        Assert.True(ours.Network.Options.LinearBeforeReset); // PyTorch's GRU is ONNX's linear_before_reset = 1
        OnnxOutputs r = ours.Run(x, steps, batch, initialH: h0);
        Assert.Empty(r.YC);

        var ort = Ort.Run(model, ("x", x, Shape(a["x"])), ("h0", h0, Shape(a["h0"])));
        Agreement.Equal(ort["y"].Values, r.Y, "y (ORT)");
        Agreement.Equal(ort["hn"].Values, r.YH, "hn (ORT)");
        Agreement.Equal(a["y"].ToSingle(), r.Y, "y (PyTorch)");
        Agreement.Equal(a["hn"].ToSingle(), r.YH, "hn (PyTorch)");
    }

    private static float[] Permute0213(float[] a, int n0, int n1, int n2, int w)
    {
        float[] r = new float[a.Length];
        for (int i = 0; i < n0; i++)
            for (int j = 0; j < n1; j++)
                for (int k = 0; k < n2; k++)
                    a.AsSpan((((i * n1) + j) * n2 + k) * w, w).CopyTo(r.AsSpan((((i * n2) + k) * n1 + j) * w));
        return r;
    }
}
