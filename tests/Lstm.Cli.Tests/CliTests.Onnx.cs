using Lstm.Core.NumPy;

namespace Lstm.Cli.Tests;

/// <summary>`lstm run --weights model.onnx` and `lstm export`, on PyTorch's exported models (Lstm.Onnx.Tests' fixtures).</summary>
public sealed partial class CliTests
{
    private static string OnnxFixture(string name) =>
        Path.Combine(Lstm.Tests.Shared.Repository.Root(), "tests", "Lstm.Onnx.Tests", "Fixtures", "pytorch", name);

    private static void Near(double[] expected, float[] actual, string what)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
        {
            // float32 against PyTorch's float32 on the same weights: summation order only (as the state_dict test).
            Assert.True(Math.Abs(actual[i] - expected[i]) <= 1e-5 * (1 + Math.Abs(expected[i])), $"{what}[{i}] = {actual[i]} vs {expected[i]}");
        }
    }

    [Fact]
    public void Run_AnOnnxModelsNode_WritesOnnxLayouts_AndListsWhatItIgnored()
    {
        var a = Npz.Read(OnnxFixture("lstm_2layer_bidirectional.npz"));
        int steps = a["x"].Shape[0], batch = a["x"].Shape[1];
        Npy.Write(Path.Combine(work, "x.npy"), a["x"].ToSingle(), a["x"].Shape);
        // The first layer's node, with the first layer's slice of h0 and c0: [D = 2, B, H].
        Npy.Write(Path.Combine(work, "h0.npy"), a["h0"].ToSingle()[..(2 * batch * 4)], 2, batch, 4);
        Npy.Write(Path.Combine(work, "c0.npy"), a["c0"].ToSingle()[..(2 * batch * 4)], 2, batch, 4);

        var (code, output) = Run("run", "--weights", OnnxFixture("lstm_2layer_bidirectional.onnx"), "--input", "x.npy", "--out", "out");
        Assert.Equal(2, code);
        Assert.Contains("error: ", output, StringComparison.Ordinal);
        Assert.Contains("2 recurrent nodes (/rnn/LSTM (LSTM), /rnn/LSTM_1 (LSTM)); name one", output, StringComparison.Ordinal);

        (code, output) = Run("run", "--weights", OnnxFixture("lstm_2layer_bidirectional.onnx"), "--node", "/rnn/LSTM", "--input", "x.npy",
            "--h0", "h0.npy", "--c0", "c0.npy", "--out", "out");
        Assert.True(code == 0, output);
        Assert.Contains("ignored 24 other node(s)", output, StringComparison.Ordinal);
        Assert.Contains("initial_h: '/rnn/Slice_output_0', computed by Slice", output, StringComparison.Ordinal);
        NpyArray y = Npy.Read(Path.Combine(work, "out", "y.npy")), hn = Npy.Read(Path.Combine(work, "out", "hn.npy"));
        Assert.Equal([steps, 2, batch, 4], y.Shape);   // ONNX's Y [T, D, B, H]
        Assert.Equal([2, batch, 4], hn.Shape);         // Y_h [D, B, H]
        Assert.Equal([2, batch, 4], Npy.Read(Path.Combine(work, "out", "cn.npy")).Shape);
        Near(a["hn"].Data[..(2 * batch * 4)], hn.ToSingle(), "hn of layer 0 against PyTorch");
    }

    [Fact]
    public void Run_OnnxOptionsAreChecked()
    {
        var a = Npz.Read(OnnxFixture("rnn_tanh.npz"));
        Npy.Write(Path.Combine(work, "x.npy"), a["x"].ToSingle(), a["x"].Shape);
        Npy.Write(Path.Combine(work, "short.npy"), [6f, 2f, 6f], 3);
        Npy.Write(Path.Combine(work, "full.npy"), [6f, 6f, 6f], 3);
        string model = OnnxFixture("rnn_tanh.onnx");
        var (code, output) = Run("run", "--weights", model, "--input", "x.npy", "--out", "o", "--batch-first");
        Assert.Equal(2, code);
        Assert.Contains("has layout 0", output, StringComparison.Ordinal);
        (code, output) = Run("run", "--weights", model, "--input", "x.npy", "--out", "o", "--lengths", "short.npy");
        Assert.True(code == 0, output); // a row of 2 steps in 6: Lstm.Core's variable-length batches
        NpyArray y = Npy.Read(Path.Combine(work, "o", "y.npy"));
        int hidden = (int)y.Shape[3], batch = (int)y.Shape[2];
        float[] ys = y.ToSingle();
        for (int t = 2; t < 6; t++)
        {
            Assert.All(ys.AsSpan(((t * batch) + 1) * hidden, hidden).ToArray(), v => Assert.Equal(0f, v)); // [T, D = 1, B, H]: row 1 past its length
        }
        (code, output) = Run("run", "--weights", model, "--input", "x.npy", "--out", "o", "--lengths", "full.npy");
        Assert.True(code == 0, output);
        (code, output) = Run("run", "--weights", model, "--input", "x.npy", "--out", "o", "--c0", "x.npy");
        Assert.Equal(2, code);
        Assert.Contains("--c0: this node has no cell state", output, StringComparison.Ordinal);
        (code, output) = Run("run", "--weights", OnnxFixture("gru.onnx"), "--input", "x.npy", "--out", "gru");
        Assert.Equal(2, code); // the GRU takes I = 4
        Assert.Contains("the node /rnn/GRU (GRU) (layout 0) takes [T, B, 4]", output, StringComparison.Ordinal);
    }

    [Fact]
    public void Run_PyTorchsGru_WritesNoCn()
    {
        var a = Npz.Read(OnnxFixture("gru.npz"));
        Npy.Write(Path.Combine(work, "x.npy"), a["x"].ToSingle(), a["x"].Shape);
        Npy.Write(Path.Combine(work, "h0.npy"), a["h0"].ToSingle(), a["h0"].Shape);
        var (code, output) = Run("run", "--weights", OnnxFixture("gru.onnx"), "--input", "x.npy", "--h0", "h0.npy", "--out", "gru");
        Assert.True(code == 0, output);
        Assert.False(File.Exists(Path.Combine(work, "gru", "cn.npy")));
        Near(a["y"].Data, Npy.Read(Path.Combine(work, "gru", "y.npy")).ToSingle(), "y against PyTorch");
        Near(a["hn"].Data, Npy.Read(Path.Combine(work, "gru", "hn.npy")).ToSingle(), "hn against PyTorch");
    }

    [Fact]
    public void Export_PyTorchsTwoLayerExport_AsOneStateDict()
    {
        var a = Npz.Read(OnnxFixture("lstm_2layer_bidirectional.npz"));
        foreach (string k in new[] { "x", "h0", "c0" }) Npy.Write(Path.Combine(work, k + ".npy"), a[k].ToSingle(), a[k].Shape);
        var (code, output) = Run("export", "--weights", OnnxFixture("lstm_2layer_bidirectional.onnx"), "--node", "/rnn/LSTM,/rnn/LSTM_1", "--to", "two.safetensors");
        Assert.True(code == 0, output);
        Assert.Contains("as 2 layers", output, StringComparison.Ordinal);
        (code, output) = Run("run", "--weights", "two.safetensors", "--input", "x.npy", "--h0", "h0.npy", "--c0", "c0.npy", "--out", "two");
        Assert.True(code == 0, output);
        Near(a["y"].Data, Npy.Read(Path.Combine(work, "two", "y.npy")).ToSingle(), "y against PyTorch");
        Near(a["cn"].Data, Npy.Read(Path.Combine(work, "two", "cn.npy")).ToSingle(), "cn against PyTorch");
    }

    [Fact]
    public void Export_OnnxToSafeTensorsAndBack_RunsTheSame()
    {
        var a = Npz.Read(OnnxFixture("rnn_tanh.npz"));
        Npy.Write(Path.Combine(work, "x.npy"), a["x"].ToSingle(), a["x"].Shape);
        Npy.Write(Path.Combine(work, "h0.npy"), a["h0"].ToSingle(), a["h0"].Shape);
        var (code, output) = Run("export", "--weights", OnnxFixture("rnn_tanh.onnx"), "--to", "rnn.safetensors");
        Assert.True(code == 0, output);
        (code, output) = Run("export", "--weights", "rnn.safetensors", "--to", "rnn.onnx");
        Assert.True(code == 0, output);
        (code, output) = Run("run", "--weights", "rnn.safetensors", "--input", "x.npy", "--h0", "h0.npy", "--out", "st");
        Assert.True(code == 0, output);
        (code, output) = Run("run", "--weights", "rnn.onnx", "--input", "x.npy", "--h0", "h0.npy", "--out", "ox");
        Assert.True(code == 0, output);
        Assert.Contains("rnn_l0 (RNN)", output, StringComparison.Ordinal);
        // The same weights and kernels: the same bits (y [T, B, H] and Y [T, 1, B, H] hold the same values).
        Assert.Equal(Npy.Read(Path.Combine(work, "st", "y.npy")).Data, Npy.Read(Path.Combine(work, "ox", "y.npy")).Data);
        Near(a["y"].Data, Npy.Read(Path.Combine(work, "ox", "y.npy")).ToSingle(), "y against PyTorch");

        (code, output) = Run("export", "--weights", "rnn.safetensors", "--to", "rnn.bin");
        Assert.Equal(2, code);
        Assert.Contains("give a .onnx or .safetensors file name", output, StringComparison.Ordinal);
    }
}
