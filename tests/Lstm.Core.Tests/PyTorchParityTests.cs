using Lstm.Core;
using Lstm.Core.NumPy;
using Lstm.Core.Reference;
using Lstm.Simd;

namespace Lstm.Core.Tests;

/// <summary>Outputs and every gradient against PyTorch's nn.LSTM (shared/fixtures/pytorch-lstm, described in its README).</summary>
public class PyTorchParityTests
{
    // float64 files against the double reference: both are exact math up to double rounding over short sums
    // (T ≤ 9 steps, ≤ 40 terms per dot product), so 1e-12 relative to 1 + |value| is generous yet would catch any
    // semantic difference (gate order, bias, direction), which shows up at 1e-2.
    private const double Float64Tolerance = 1e-12;

    // float32 files against the float path: two independent float32 implementations (oneDNN/MKL and ours) differ by
    // rounding only: a few ulp per operation over ≤ 9 steps. 1e-5 relative to 1 + |value| bounds that.
    private const double Float32Tolerance = 1e-5;

    public static TheoryData<string, SimdPath> Files()
    {
        var d = new TheoryData<string, SimdPath>();
        foreach (string f in new[] { "tiny", "stack_bidir" })
        {
            foreach (SimdPath p in SimdPaths.Available) d.Add(f, p);
        }
        return d;
    }

    private static (Dictionary<string, NpyArray> A, RecurrentOptions O, int T, int B) Load(string file)
    {
        var a = Npz.Read(Path.Combine(Helpers.SharedDirectory(), "fixtures", "pytorch-lstm", file + ".npz"));
        int[] m = a["meta"].Data.Select(v => (int)v).ToArray(); // I, H, L, D, B, T
        return (a, new RecurrentOptions(m[0], m[1], m[2], Bidirectional: m[3] == 2), m[5], m[4]);
    }

    [Theory]
    [MemberData(nameof(Files))]
    public void Float32Fixture_MatchesTheFastPath(string file, SimdPath path)
    {
        var (a, o, T, B) = Load(file + "_f32");
        Assert.Equal("<f4", a["x"].DType);
        var weights = ParameterLayout.For(o).ToDictionary(i => i.Name, i => a[i.Name].ToSingle());
        RecurrentNetwork net = RecurrentNetwork.FromParameters(o, weights, path);
        TrainingTrace tr = net.ForwardTraining(a["x"].ToSingle(), T, B, a["h0"].ToSingle(), a["c0"].ToSingle());
        ParameterSet g = net.CreateGradients();
        InputGradients d = net.Backward(tr, a["dy"].ToSingle(), a["dhn"].ToSingle(), a["dcn"].ToSingle(), g);

        Check(tr.Result.Output, a["y"], "y", Float32Tolerance);
        Check(tr.Result.Hn, a["hn"], "hn", Float32Tolerance);
        Check(tr.Result.Cn, a["cn"], "cn", Float32Tolerance);
        Check(d.DX, a["grad_x"], "grad_x", Float32Tolerance);
        Check(d.DH0, a["grad_h0"], "grad_h0", Float32Tolerance);
        Check(d.DC0, a["grad_c0"], "grad_c0", Float32Tolerance);
        foreach (ParameterInfo info in net.ParameterInfos)
        {
            Check(g[info.Name], a["grad_" + info.Name], "grad_" + info.Name, Float32Tolerance);
        }
    }

    [Theory]
    [InlineData("tiny")]
    [InlineData("stack_bidir")]
    public void Float64Fixture_MatchesTheReference(string file)
    {
        var (a, o, T, B) = Load(file + "_f64");
        Assert.Equal("<f8", a["x"].DType);
        var net = new ReferenceNetwork(o, ParameterLayout.For(o).ToDictionary(i => i.Name, i => a[i.Name].Data));
        ReferenceTrace tr = net.Forward(a["x"].Data, T, B, a["h0"].Data, a["c0"].Data);
        ReferenceGradients g = net.Backward(tr, a["dy"].Data, a["dhn"].Data, a["dcn"].Data);

        Check(tr.Output, a["y"], "y");
        Check(tr.Hn, a["hn"], "hn");
        Check(tr.Cn, a["cn"], "cn");
        Check(g.DX, a["grad_x"], "grad_x");
        Check(g.DH0, a["grad_h0"], "grad_h0");
        Check(g.DC0, a["grad_c0"], "grad_c0");
        foreach (ParameterInfo info in net.Infos)
        {
            Check(g.Parameters[info.Name], a["grad_" + info.Name], "grad_" + info.Name);
        }
    }

    private static void Check(float[] actual, NpyArray expected, string name, double tolerance)
    {
        double w = Helpers.WorstError(actual, expected.Data);
        Assert.True(w <= tolerance, $"{name}: worst error {w:E2} > {tolerance:E0}");
    }

    private static void Check(double[] actual, NpyArray expected, string name)
    {
        Assert.Equal(expected.Data.Length, actual.Length);
        double w = actual.Zip(expected.Data, (p, q) => Math.Abs(p - q) / (1 + Math.Abs(q))).Max();
        Assert.True(w <= Float64Tolerance, $"{name}: worst error {w:E2} > {Float64Tolerance:E0}");
    }
}
