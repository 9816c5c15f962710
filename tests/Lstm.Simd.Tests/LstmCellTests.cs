using Lstm.Simd;

namespace Lstm.Simd.Tests;

public class LstmCellTests
{
    // Forward against the double oracle: each activation is within 2.5 ulp, and c and h add at most 4 more roundings,
    // on terms bounded by 1 + |c'|; 16 roundings of 2^-24 on that magnitude bounds the error with room to spare.
    private static double ForwardBound(double cPrevAbs) => 16 * Math.Pow(2, -24) * (1 + cPrevAbs);

    // Backward in float against central differences of the double oracle (step 1e-6, truncation error ≈ 1e-12):
    // the float gradient carries about 30 roundings of 2^-24 on terms of size ≤ 1 + |c'| plus the forward's own
    // activation error propagated: 4e-6 relative to 1 + |gradient| covers both.
    private const double BackwardTolerance = 4e-6;

    public static readonly LstmCellOptions[] Variants =
    [
        new(ForgetGate: true, Peepholes: false),
        new(ForgetGate: false, Peepholes: false),
        new(ForgetGate: true, Peepholes: true),
        new(ForgetGate: false, Peepholes: true),
    ];

    public static TheoryData<SimdPath, int, int> PathsHiddenVariants()
    {
        var data = new TheoryData<SimdPath, int, int>();
        foreach (SimdPath p in SimdPaths.Available)
        {
            foreach (int h in TestData.AwkwardSizes)
            {
                for (int v = 0; v < Variants.Length; v++)
                {
                    data.Add(p, h, v);
                }
            }
        }
        return data;
    }

    private sealed record Case(int B, int H, float[] Pre, float[] CPrev, float[] Peep, float[] Dh, float[] DcNext);

    private static Case MakeCase(int b, int h, int seed) => new(
        b, h,
        TestData.Uniform(b * 4 * h, seed, 3f),
        TestData.Uniform(b * h, seed + 1, 2f),
        TestData.Uniform(3 * h, seed + 2, 0.7f),
        TestData.Uniform(b * h, seed + 3),
        TestData.Uniform(b * h, seed + 4));

    private static (float[] Gates, float[] C, float[] H) RunForward(Case k, LstmCellOptions o, SimdPath path, int ldh)
    {
        float[] gates = (float[])k.Pre.Clone();
        float[] c = new float[k.B * k.H];
        float[] hOut = Enumerable.Repeat(-9f, k.B == 0 ? 0 : ((k.B - 1) * ldh) + k.H).ToArray();
        LstmCell.Forward(gates, k.B, k.H, k.CPrev, c, hOut, ldh, o, o.Peepholes ? k.Peep : default, path);
        return (gates, c, hOut);
    }

    private static (float[] DGates, float[] DcPrev, float[] DPeep) RunBackward(Case k, LstmCellOptions o, SimdPath path, float[] gates, float[] c)
    {
        float[] dGates = new float[k.B * 4 * k.H];
        float[] dcPrev = new float[k.B * k.H];
        float[] dPeep = new float[o.Peepholes ? 3 * k.H : 0];
        LstmCell.Backward(gates, k.B, k.H, k.CPrev, c, k.Dh, k.DcNext, dGates, dcPrev, o, o.Peepholes ? k.Peep : default, dPeep, path);
        return (dGates, dcPrev, dPeep);
    }

    [Theory]
    [MemberData(nameof(PathsHiddenVariants))]
    public void ForwardAndBackward_EqualScalarTwin_BitForBit(SimdPath path, int hidden, int variant)
    {
        LstmCellOptions o = Variants[variant];
        Case k = MakeCase(3, hidden, hidden + (100 * variant));
        var (g0, c0, h0) = RunForward(k, o, SimdPath.Scalar, hidden + 3);
        var (g1, c1, h1) = RunForward(k, o, path, hidden + 3);
        TestData.AssertBitwiseEqual(g0, g1, "activations");
        TestData.AssertBitwiseEqual(c0, c1, "c");
        TestData.AssertBitwiseEqual(h0, h1, "h (and the gaps between rows)");

        var (d0, dc0, dp0) = RunBackward(k, o, SimdPath.Scalar, g0, c0);
        var (d1, dc1, dp1) = RunBackward(k, o, path, g1, c1);
        TestData.AssertBitwiseEqual(d0, d1, "dGates");
        TestData.AssertBitwiseEqual(dc0, dc1, "dcPrev");
        TestData.AssertBitwiseEqual(dp0, dp1, "dPeepholes");
    }

    [Theory]
    [MemberData(nameof(PathsHiddenVariants))]
    public void Forward_MatchesDoubleOracle(SimdPath path, int hidden, int variant)
    {
        LstmCellOptions o = Variants[variant];
        Case k = MakeCase(2, hidden, 7 + hidden);
        var (gates, c, h) = RunForward(k, o, path, hidden);
        for (int b = 0; b < k.B; b++)
        {
            double[] pre = k.Pre.AsSpan(b * 4 * hidden, 4 * hidden).ToArray().Select(v => (double)v).ToArray();
            double[] cp = k.CPrev.AsSpan(b * hidden, hidden).ToArray().Select(v => (double)v).ToArray();
            var (eh, ec, ea) = CellOracle.Forward(pre, cp, hidden, o.ForgetGate, o.Peepholes ? k.Peep.Select(v => (double)v).ToArray() : null);
            for (int j = 0; j < hidden; j++)
            {
                double bound = ForwardBound(Math.Abs(cp[j]));
                Assert.True(Math.Abs(c[(b * hidden) + j] - ec[j]) <= bound, $"c[{b},{j}] = {c[(b * hidden) + j]} vs {ec[j]}");
                Assert.True(Math.Abs(h[(b * hidden) + j] - eh[j]) <= bound, $"h[{b},{j}] = {h[(b * hidden) + j]} vs {eh[j]}");
                foreach (int gate in o.ForgetGate ? new[] { 0, 1, 2, 3 } : [0, 2, 3])
                {
                    int idx = (gate * hidden) + j;
                    Assert.True(Math.Abs(gates[(b * 4 * hidden) + idx] - ea[idx]) <= bound, $"gate {gate} unit {j}");
                }
            }
        }
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public void Backward_MatchesCentralDifferencesOfTheDoubleOracle(int variant)
    {
        LstmCellOptions o = Variants[variant];
        const int H = 11, B = 2;
        Case k = MakeCase(B, H, 31 + variant);
        foreach (SimdPath path in SimdPaths.Available)
        {
            var (gates, c, _) = RunForward(k, o, path, H);
            var (dGates, dcPrev, dPeep) = RunBackward(k, o, path, gates, c);

            // L = Σ dh ⊙ h + Σ dcNext ⊙ c over the batch: its gradient is what Backward returns.
            double Loss(double[] pre, double[] cPrev, double[] peep)
            {
                double sum = 0;
                for (int b = 0; b < B; b++)
                {
                    var (h, cc, _) = CellOracle.Forward(pre[(b * 4 * H)..((b + 1) * 4 * H)], cPrev[(b * H)..((b + 1) * H)], H, o.ForgetGate, o.Peepholes ? peep : null);
                    for (int j = 0; j < H; j++)
                    {
                        sum += (k.Dh[(b * H) + j] * h[j]) + (k.DcNext[(b * H) + j] * cc[j]);
                    }
                }
                return sum;
            }

            double[] pre = k.Pre.Select(v => (double)v).ToArray();
            double[] cPrev = k.CPrev.Select(v => (double)v).ToArray();
            double[] peep = k.Peep.Select(v => (double)v).ToArray();
            double Fd(double[] x, int i)
            {
                const double Step = 1e-6;
                double keep = x[i];
                x[i] = keep + Step;
                double up = Loss(pre, cPrev, peep);
                x[i] = keep - Step;
                double down = Loss(pre, cPrev, peep);
                x[i] = keep;
                return (up - down) / (2 * Step);
            }

            for (int i = 0; i < pre.Length; i++)
            {
                double fd = Fd(pre, i);
                Assert.True(Math.Abs(dGates[i] - fd) <= BackwardTolerance * (1 + Math.Abs(fd)), $"{path}: dGates[{i}] = {dGates[i]} vs {fd}");
            }
            for (int i = 0; i < cPrev.Length; i++)
            {
                double fd = Fd(cPrev, i);
                Assert.True(Math.Abs(dcPrev[i] - fd) <= BackwardTolerance * (1 + Math.Abs(fd)), $"{path}: dcPrev[{i}] = {dcPrev[i]} vs {fd}");
            }
            if (o.Peepholes)
            {
                for (int i = 0; i < peep.Length; i++)
                {
                    double fd = Fd(peep, i);
                    Assert.True(Math.Abs(dPeep[i] - fd) <= BackwardTolerance * (1 + Math.Abs(fd)), $"{path}: dPeep[{i}] = {dPeep[i]} vs {fd}");
                }
            }
        }
    }

    [Fact]
    public void Backward_AllowsRunningDcInPlace()
    {
        LstmCellOptions o = Variants[2];
        Case k = MakeCase(2, 19, 5);
        var (gates, c, _) = RunForward(k, o, SimdPaths.Default, 19);
        var (_, expected, _) = RunBackward(k, o, SimdPaths.Default, gates, c);
        float[] running = (float[])k.DcNext.Clone();
        LstmCell.Backward(gates, 2, 19, k.CPrev, c, k.Dh, running, new float[2 * 4 * 19], running, o, k.Peep, new float[57]);
        TestData.AssertBitwiseEqual(expected, running, "dc in place");
    }

    [Fact]
    public void BadShapes_ThrowNamingTheArgument()
    {
        var e = Assert.Throws<ArgumentException>(() => LstmCell.Forward(new float[20], 2, 3, new float[6], new float[6], new float[6], 3, LstmCellOptions.Default));
        Assert.Equal("gates", e.ParamName);
        Assert.Contains("[2, 12]", e.Message);
        e = Assert.Throws<ArgumentException>(() => LstmCell.Forward(new float[24], 2, 3, new float[5], new float[6], new float[6], 3, LstmCellOptions.Default));
        Assert.Equal("cPrev", e.ParamName);
        e = Assert.Throws<ArgumentException>(() => LstmCell.Forward(new float[24], 2, 3, new float[6], new float[6], new float[6], 3, new LstmCellOptions(true, true), new float[8]));
        Assert.Equal("peepholes", e.ParamName);
        Assert.Contains("[9]", e.Message);
        e = Assert.Throws<ArgumentException>(() => LstmCell.Forward(new float[24], 2, 3, new float[6], new float[6], new float[7], 5, LstmCellOptions.Default));
        Assert.Equal("h", e.ParamName);
        Assert.Throws<ArgumentOutOfRangeException>(() => LstmCell.Forward(new float[24], 2, 3, new float[6], new float[6], new float[6], 2, LstmCellOptions.Default));
    }

    [Theory]
    [MemberData(nameof(TestData.PathsBySize), MemberType = typeof(TestData))]
    public void RnnCell_EqualsScalarTwin_AndItsDerivative(SimdPath path, int n)
    {
        float[] pre = TestData.Uniform(n, n, 4f);
        float[] dh = TestData.Uniform(n, n + 1);
        float[] h0 = new float[n], h1 = new float[n], d0 = new float[n], d1 = new float[n];
        RnnCell.Forward(pre, h0, SimdPath.Scalar);
        RnnCell.Forward(pre, h1, path);
        TestData.AssertBitwiseEqual(h0, h1, "h");
        RnnCell.Backward(h0, dh, d0, SimdPath.Scalar);
        RnnCell.Backward(h1, dh, d1, path);
        TestData.AssertBitwiseEqual(d0, d1, "dPre");
        for (int i = 0; i < n; i++)
        {
            double t = Math.Tanh(pre[i]);
            double exact = dh[i] * (1 - (t * t));
            // h is within 2.5 ulp of tanh; 1 - h² and the product add two roundings.
            Assert.True(Math.Abs(d0[i] - exact) <= 8 * Math.Pow(2, -24) * (1 + Math.Abs(dh[i])), $"dPre[{i}]");
        }
    }
}
