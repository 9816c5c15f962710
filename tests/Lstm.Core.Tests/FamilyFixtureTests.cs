using Lstm.Core;
using Lstm.Core.NumPy;
using Lstm.Core.Reference;
using Lstm.Simd;

namespace Lstm.Core.Tests;

/// <summary>
/// Outputs and every gradient against PyTorch 1.13 for the rest of the recurrent family (Fixtures/family, written by
/// tools/gen_family_fixtures.py; the script's docstring describes the arrays).
/// </summary>
public class FamilyFixtureTests
{
    // The same bounds as PyTorchParityTests, for the same reasons: float64 against the double reference differs by
    // double rounding over short sums (T ≤ 7, ≤ 40 terms per dot product); float32 against our float path by a few
    // ulp per operation over ≤ 7 steps. A semantic difference (ReLU for tanh, a missing bias, a wrong step) is ~1e-2.
    private const double Float64Tolerance = 1e-12;
    private const double Float32Tolerance = 1e-5;

    /// <summary>The sequence-module cases each feature adds (cell modules are tested through the import).</summary>
    public static readonly string[] SequenceCases = ["rnn_relu", "lstm_nobias", "rnn_relu_nobias", "lstm_lengths", "lstm_lengths_uni", "rnn_lengths", "lstm_proj", "lstm_proj_uni", "lstm_proj_lengths", "gru_lengths", "gru_lengths_uni_nobias"];

    public static TheoryData<string, SimdPath> Float32Cases()
    {
        var d = new TheoryData<string, SimdPath>();
        foreach (string f in SequenceCases)
        {
            foreach (SimdPath p in SimdPaths.Available) d.Add(f, p);
        }
        return d;
    }

    public static TheoryData<string> Float64Cases() => new(SequenceCases);

    internal sealed record Fixture(Dictionary<string, NpyArray> A, RecurrentOptions Options, int Steps, int Batch, int[] Lengths)
    {
        public bool HasLengths => Lengths.Any(l => l != Steps);

        public bool Lstm => Options.Cell == CellKind.Lstm;

        public NpyArray Parameter(string name) => A["model." + name];
    }

    internal static Fixture Load(string file)
    {
        var a = Npz.Read(Path.Combine(Helpers.RepositoryRoot(), "tests", "Lstm.Core.Tests", "Fixtures", "family", file + ".npz"));
        int[] m = a["meta"].Data.Select(v => (int)v).ToArray(); // I, H, L, D, B, T, cell, relu, bias, proj
        var o = new RecurrentOptions(m[0], m[1], m[2], Bidirectional: m[3] == 2, Cell: m[6] switch { 0 => CellKind.Lstm, 2 => CellKind.Gru, _ => CellKind.Rnn },
            Nonlinearity: m[7] == 1 ? RnnNonlinearity.Relu : RnnNonlinearity.Tanh, Bias: m[8] == 1, ProjectionSize: m[9]);
        return new Fixture(a, o, m[5], m[4], a["lengths"].Data.Select(v => (int)v).ToArray());
    }

    [Theory]
    [MemberData(nameof(Float32Cases))]
    public void Float32Fixture_MatchesTheFastPath(string file, SimdPath path)
    {
        Fixture f = Load(file + "_f32");
        var weights = ParameterLayout.For(f.Options).ToDictionary(i => i.Name, i => f.Parameter(i.Name).ToSingle());
        RecurrentNetwork net = RecurrentNetwork.FromParameters(f.Options, weights, path);
        float[] c0 = f.Lstm ? f.A["c0"].ToSingle() : [];
        using TrainingTrace tr = f.HasLengths
            ? net.ForwardTraining(f.A["x"].ToSingle(), f.Steps, f.Batch, f.Lengths, f.A["h0"].ToSingle(), c0)
            : net.ForwardTraining(f.A["x"].ToSingle(), f.Steps, f.Batch, f.A["h0"].ToSingle(), c0);
        ParameterSet g = net.CreateGradients();
        InputGradients d = net.Backward(tr, f.A["dy"].ToSingle(), f.A["dhn"].ToSingle(), f.Lstm ? f.A["dcn"].ToSingle() : [], g);

        Check(tr.Result.Output, f.A["y"], "y");
        Check(tr.Result.Hn, f.A["hn"], "hn");
        Check(d.DX, f.A["grad_x"], "grad_x");
        Check(d.DH0, f.A["grad_h0"], "grad_h0");
        if (f.Lstm)
        {
            Check(tr.Result.Cn, f.A["cn"], "cn");
            Check(d.DC0, f.A["grad_c0"], "grad_c0");
        }
        Assert.Equal(f.A.Keys.Count(k => k.StartsWith("model.", StringComparison.Ordinal)), net.ParameterInfos.Count);
        foreach (ParameterInfo info in net.ParameterInfos)
        {
            Check(g[info.Name], f.A["grad_" + info.Name], "grad_" + info.Name);
        }
    }

    [Theory]
    [MemberData(nameof(Float64Cases))]
    public void Float64Fixture_MatchesTheReference(string file)
    {
        Fixture f = Load(file + "_f64");
        var net = new ReferenceNetwork(f.Options, ParameterLayout.For(f.Options).ToDictionary(i => i.Name, i => f.Parameter(i.Name).Data));
        ReferenceTrace tr = net.Forward(f.A["x"].Data, f.Steps, f.Batch, f.A["h0"].Data, f.Lstm ? f.A["c0"].Data : null, f.Lengths);
        ReferenceGradients g = net.Backward(tr, f.A["dy"].Data, f.A["dhn"].Data, f.Lstm ? f.A["dcn"].Data : null);

        Check(tr.Output, f.A["y"], "y");
        Check(tr.Hn, f.A["hn"], "hn");
        Check(g.DX, f.A["grad_x"], "grad_x");
        Check(g.DH0, f.A["grad_h0"], "grad_h0");
        if (f.Lstm)
        {
            Check(tr.Cn, f.A["cn"], "cn");
            Check(g.DC0, f.A["grad_c0"], "grad_c0");
        }
        foreach (ParameterInfo info in net.Infos)
        {
            Check(g.Parameters[info.Name], f.A["grad_" + info.Name], "grad_" + info.Name);
        }
    }

    internal static void Check(float[] actual, NpyArray expected, string name, double tolerance = Float32Tolerance)
    {
        double w = Helpers.WorstError(actual, expected.Data);
        Assert.True(w <= tolerance, $"{name}: worst error {w:E2} > {tolerance:E0}");
    }

    internal static void Check(double[] actual, NpyArray expected, string name)
    {
        Assert.Equal(expected.Data.Length, actual.Length);
        double w = actual.Zip(expected.Data, (p, q) => Math.Abs(p - q) / (1 + Math.Abs(q))).Max();
        Assert.True(w <= Float64Tolerance, $"{name}: worst error {w:E2} > {Float64Tolerance:E0}");
    }
}
