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
