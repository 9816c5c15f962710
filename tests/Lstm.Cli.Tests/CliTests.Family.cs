using Lstm.Core.NumPy;

namespace Lstm.Cli.Tests;

/// <summary>`lstm run` on the rest of PyTorch's recurrent family (issue 14): ReLU, cell modules, several modules, lengths.</summary>
public sealed partial class CliTests
{
    private static string FamilyFixture(string name) =>
        Path.Combine(Lstm.Tests.Shared.Repository.Root(), "tests", "Lstm.Core.Tests", "Fixtures", "family", name + ".npz");

    // The fixture's arrays as .npy files in the work folder; the fixture itself serves as --weights (its module is "model.").
    private Dictionary<string, NpyArray> WriteArrays(string fixture, params string[] names)
    {
        var a = Npz.Read(FamilyFixture(fixture));
        foreach (string n in names)
        {
            Npy.Write(Path.Combine(work, n + ".npy"), a[n].ToSingle(), a[n].Shape);
        }
        return a;
    }

    private void AssertClose(NpyArray expected, string file)
    {
        NpyArray got = Npy.Read(Path.Combine(work, file));
        Assert.Equal(expected.Shape, got.Shape);
        float[] g = got.ToSingle();
        for (int i = 0; i < g.Length; i++)
        {
            Assert.True(Math.Abs(g[i] - expected.Data[i]) <= 1e-5 * (1 + Math.Abs(expected.Data[i])), $"{file}[{i}] = {g[i]} vs {expected.Data[i]}"); // float32 rounding only
        }
    }

    [Fact]
    public void Run_ReluRnn_NeedsTheNonlinearityOption()
    {
        var a = WriteArrays("rnn_relu_f32", "x", "h0");
        var (code, output) = Run("run", "--weights", FamilyFixture("rnn_relu_f32"), "--input", "x.npy", "--h0", "h0.npy", "--nonlinearity", "relu", "--out", "relu");
        Assert.True(code == 0, output);
        Assert.Contains("RNN (ReLU)", output);
        AssertClose(a["y"], Path.Combine("relu", "y.npy"));
        AssertClose(a["hn"], Path.Combine("relu", "hn.npy"));

        (code, output) = Run("run", "--weights", FamilyFixture("lstm_nobias_f32"), "--input", "x.npy", "--nonlinearity", "relu", "--out", "bad");
        Assert.Equal(2, code);
        Assert.Contains("applies to an RNN", output);
    }

    [Fact]
    public void Run_LstmCellModule_RunsXAsASequence()
    {
        var a = WriteArrays("lstmcell_f32", "x", "h0", "c0");
        Assert.Equal(1, a["h0"].Shape[0]); // [1, B, H]
        var (code, output) = Run("run", "--weights", FamilyFixture("lstmcell_f32"), "--input", "x.npy", "--h0", "h0.npy", "--c0", "c0.npy", "--out", "cell");
        Assert.True(code == 0, output);
        Assert.Contains("LSTM cell", output);
        AssertClose(a["y"], Path.Combine("cell", "y.npy"));
        AssertClose(a["hn"], Path.Combine("cell", "hn.npy"));
        AssertClose(a["cn"], Path.Combine("cell", "cn.npy"));
    }

    [Fact]
    public void Run_SeveralModules_ListsThem_AndPrefixChoosesOne()
    {
        Npy.Write(Path.Combine(work, "x.npy"), new float[2 * 1 * 4], [2, 1, 4]);
        var (code, output) = Run("run", "--weights", FamilyFixture("multi"), "--input", "x.npy", "--out", "m");
        Assert.Equal(2, code);
        Assert.Contains("'decoder.rnn.'", output);
        Assert.Contains("'encoder.rnn.'", output);
        Assert.Contains("--prefix", output);
        (code, output) = Run("run", "--weights", FamilyFixture("multi"), "--input", "x.npy", "--prefix", "decoder.rnn", "--out", "m");
        Assert.True(code == 0, output);
        Assert.Contains("prefix 'decoder.rnn.'", output);
        Assert.Equal([2, 1, 2], Npy.Read(Path.Combine(work, "m", "y.npy")).Shape);
    }
}

public sealed partial class CliTests
{
    // An int64 array from a fixture archive, as its own .npy (the bytes numpy wrote).
    private void ExtractNpy(string fixture, string name)
    {
        using var zip = System.IO.Compression.ZipFile.OpenRead(FamilyFixture(fixture));
        using Stream entry = zip.GetEntry(name + ".npy")!.Open();
        using FileStream file = File.Create(Path.Combine(work, name + ".npy"));
        entry.CopyTo(file);
    }

    [Fact]
    public void Run_WithLengths_GivesPyTorchsPackedSequenceOutputs()
    {
        var a = WriteArrays("lstm_lengths_f32", "x", "h0", "c0");
        ExtractNpy("lstm_lengths_f32", "lengths");
        Assert.Equal("<i8", Npy.Read(Path.Combine(work, "lengths.npy")).DType);
        var (code, output) = Run("run", "--weights", FamilyFixture("lstm_lengths_f32"), "--input", "x.npy", "--h0", "h0.npy", "--c0", "c0.npy",
            "--lengths", "lengths.npy", "--out", "packed");
        Assert.True(code == 0, output);
        AssertClose(a["y"], Path.Combine("packed", "y.npy"));
        AssertClose(a["hn"], Path.Combine("packed", "hn.npy"));
        AssertClose(a["cn"], Path.Combine("packed", "cn.npy"));

        byte[] npy = File.ReadAllBytes(Path.Combine(work, "lengths.npy"));
        BitConverter.GetBytes(9L).CopyTo(npy, npy.Length - 24); // lengths [5, 9, 1, 3] with T = 7
        File.WriteAllBytes(Path.Combine(work, "long.npy"), npy);
        (code, output) = Run("run", "--weights", FamilyFixture("lstm_lengths_f32"), "--input", "x.npy", "--lengths", "long.npy", "--out", "long");
        Assert.Equal(2, code);
        Assert.Contains("lengths[1] (batch row 1) is 9", output);

        Npy.Write(Path.Combine(work, "bad.npy"), [5f, 7f, 1f, 3f], [4]);
        (code, output) = Run("run", "--weights", FamilyFixture("lstm_lengths_f32"), "--input", "x.npy", "--lengths", "bad.npy", "--out", "bad");
        Assert.Equal(2, code);
        Assert.Contains("expected int64", output);
    }

    [Fact]
    public void Run_GruWithLengths_GivesPyTorchsPackedSequenceOutputs()
    {
        // It used to exit with "Lengths with Gru cells are not supported yet".
        var a = WriteArrays("gru_lengths_f32", "x", "h0");
        ExtractNpy("gru_lengths_f32", "lengths");
        var (code, output) = Run("run", "--weights", FamilyFixture("gru_lengths_f32"), "--input", "x.npy", "--h0", "h0.npy", "--lengths", "lengths.npy", "--out", "packed");
        Assert.True(code == 0, output);
        AssertClose(a["y"], Path.Combine("packed", "y.npy"));
        AssertClose(a["hn"], Path.Combine("packed", "hn.npy"));
        Assert.False(File.Exists(Path.Combine(work, "packed", "cn.npy")));
    }
}

public sealed partial class CliTests
{
    [Fact]
    public void Run_LstmWithProjections_TakesH0OfWidthP()
    {
        var a = WriteArrays("lstm_proj_f32", "x", "h0", "c0");
        var (code, output) = Run("run", "--weights", FamilyFixture("lstm_proj_f32"), "--input", "x.npy", "--h0", "h0.npy", "--c0", "c0.npy", "--out", "proj");
        Assert.True(code == 0, output);
        Assert.Contains("projections P = 3", output);
        AssertClose(a["y"], Path.Combine("proj", "y.npy"));
        AssertClose(a["hn"], Path.Combine("proj", "hn.npy"));
        AssertClose(a["cn"], Path.Combine("proj", "cn.npy"));
    }
}
