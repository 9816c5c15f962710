using Lstm.Core;
using Lstm.Core.Interop;
using Lstm.Core.NumPy;
using Lstm.Core.Reference;
using Lstm.Simd;

namespace Lstm.Core.Tests;

/// <summary>Outputs and every gradient against PyTorch's nn.GRU (Fixtures/gru, from tools/gen_gru_fixtures.py).</summary>
public class GruPyTorchParityTests
{
    // As for the nn.LSTM fixtures (PyTorchParityTests): float64 against the double reference differs by double rounding
    // over short sums (T ≤ 7, ≤ 30 terms per dot product); a semantic difference (gate order, where b_hn goes, r
    // before or after the product) shows at 1e-2.
    private const double Float64Tolerance = 1e-12;

    // Two independent float32 implementations differ by rounding only: a few ulp per operation over ≤ 7 steps.
    private const double Float32Tolerance = 1e-5;

    private static readonly string[] Cases = ["tiny", "stack_bidir", "batch_first"];

    public static TheoryData<string, SimdPath> Files()
    {
        var d = new TheoryData<string, SimdPath>();
        foreach (string f in Cases)
        {
            foreach (SimdPath p in SimdPaths.Available) d.Add(f, p);
        }
        return d;
    }

    public static TheoryData<string> Names() => new(Cases);

    private static Dictionary<string, NpyArray> Read(string file) =>
        Npz.Read(Path.Combine(Helpers.RepositoryRoot(), "tests", "Lstm.Core.Tests", "Fixtures", "gru", file + ".npz"));

    private static (Dictionary<string, NpyArray> A, RecurrentOptions O, int T, int B) Load(string file)
    {
        var a = Read(file);
        int[] m = a["meta"].Data.Select(v => (int)v).ToArray(); // I, H, L, D, B, T, batch_first
        return (a, new RecurrentOptions(m[0], m[1], m[2], Bidirectional: m[3] == 2, BatchFirst: m[6] == 1, Cell: CellKind.Gru), m[5], m[4]);
    }

    [Theory]
    [MemberData(nameof(Files))]
    public void Float32Fixture_MatchesTheFastPath(string file, SimdPath path)
    {
        var (a, o, T, B) = Load(file + "_f32");
        Assert.Equal("<f4", a["x"].DType);
        var weights = ParameterLayout.For(o).ToDictionary(i => i.Name, i => a[i.Name].ToSingle());
        RecurrentNetwork net = RecurrentNetwork.FromParameters(o, weights, path);
        using TrainingTrace tr = net.ForwardTraining(a["x"].ToSingle(), T, B, a["h0"].ToSingle());
        ParameterSet g = net.CreateGradients();
        InputGradients d = net.Backward(tr, a["dy"].ToSingle(), a["dhn"].ToSingle(), default, g);

        Check(tr.Result.Output, a["y"], "y");
        Check(tr.Result.Hn, a["hn"], "hn");
        Check(d.DX, a["grad_x"], "grad_x");
        Check(d.DH0, a["grad_h0"], "grad_h0");
        foreach (ParameterInfo info in net.ParameterInfos)
        {
            Check(g[info.Name], a["grad_" + info.Name], "grad_" + info.Name);
        }
    }

    [Theory]
    [MemberData(nameof(Names))]
    public void Float64Fixture_MatchesTheReference(string file)
    {
        var (a, o, T, B) = Load(file + "_f64");
        Assert.Equal("<f8", a["x"].DType);
        var net = new ReferenceNetwork(o, ParameterLayout.For(o).ToDictionary(i => i.Name, i => a[i.Name].Data));
        ReferenceTrace tr = net.Forward(a["x"].Data, T, B, a["h0"].Data);
        ReferenceGradients g = net.Backward(tr, a["dy"].Data, a["dhn"].Data);

        Check(tr.Output, a["y"], "y");
        Check(tr.Hn, a["hn"], "hn");
        Check(g.DX, a["grad_x"], "grad_x");
        Check(g.DH0, a["grad_h0"], "grad_h0");
        foreach (ParameterInfo info in net.Infos)
        {
            Check(g.Parameters[info.Name], a["grad_" + info.Name], "grad_" + info.Name);
        }
    }

    [Theory]
    [MemberData(nameof(Names))]
    public void ImportedStateDict_IsAGru_AndRunsLikePyTorch(string file)
    {
        var (a, _, T, B) = Load(file + "_f32");
        bool batchFirst = a["meta"].Data[6] == 1;
        ImportedNetwork imported = PyTorchImport.Load(Path.Combine(Helpers.RepositoryRoot(), "tests", "Lstm.Core.Tests", "Fixtures", "gru", file + "_state_dict.npz"), batchFirst);
        Assert.Equal(CellKind.Gru, imported.Options.Cell);
        Assert.True(imported.Options.LinearBeforeReset);
        Assert.Equal("gru.", imported.Prefix);
        Assert.Equal(["fc.bias", "fc.weight"], imported.IgnoredKeys.Order(StringComparer.Ordinal));
        SequenceOutput r = imported.Network.Forward(a["x"].ToSingle(), T, B, a["h0"].ToSingle());
        Check(r.Output, a["y"], "y");
        Check(r.Hn, a["hn"], "hn");
        Assert.Empty(r.Cn);

        // Export and load back: the same names and bits, and still a GRU.
        string path = Path.Combine(Path.GetTempPath(), $"gru-{Guid.NewGuid():N}.safetensors");
        try
        {
            PyTorchImport.Export(imported.Network, path, prefix: "rnn.");
            ImportedNetwork back = PyTorchImport.Load(path, batchFirst);
            Assert.Equal(imported.Options, back.Options);
            Helpers.AssertBitwise(r.Output, back.Network.Forward(a["x"].ToSingle(), T, B, a["h0"].ToSingle()).Output, "round trip");
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void AMisShapedGruStateDict_ListsItsProblems()
    {
        var a = Read("tiny_state_dict");
        var tensors = a.Where(kv => kv.Key.StartsWith("gru.", StringComparison.Ordinal) && kv.Key != "gru.bias_hh_l0")
            .Select(kv => new NamedTensor(kv.Key, kv.Value.Shape, kv.Value.ToSingle(), kv.Value.DType)).ToList();
        tensors.Add(new NamedTensor("gru.bias_hh_l0", [20], new float[20], "F32"));
        var e = Assert.Throws<InvalidDataException>(() => PyTorchImport.FromTensors(tensors));
        Assert.Contains("one GRU", e.Message);
        Assert.Contains("gru.bias_hh_l0 is [20], expected [21]", e.Message);
    }

    private static void Check(float[] actual, NpyArray expected, string name)
    {
        double w = Helpers.WorstError(actual, expected.Data);
        Assert.True(w <= Float32Tolerance, $"{name}: worst error {w:E2} > {Float32Tolerance:E0}");
    }

    private static void Check(double[] actual, NpyArray expected, string name)
    {
        Assert.Equal(expected.Data.Length, actual.Length);
        double w = actual.Zip(expected.Data, (p, q) => Math.Abs(p - q) / (1 + Math.Abs(q))).Max();
        Assert.True(w <= Float64Tolerance, $"{name}: worst error {w:E2} > {Float64Tolerance:E0}");
    }
}
