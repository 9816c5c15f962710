using Lstm.Simd;

namespace Lstm.Simd.Tests;

public class GruCellTests
{
    // Forward against the double oracle: each activation is within 2.5 ulp; the arguments of σ and tanh and the blend
    // h = n + z(h' − n) add a few roundings each, on terms bounded by the magnitudes below (the argument of tanh can
    // be as large as |G_n| + |recurrent part|, whose own rounding tanh' ≤ 1 passes on). 16 roundings of 2^-24 on
    // 1 + |h'| + |G_n| + |recurrent part| bounds it with room to spare.
    private static double ForwardBound(double hPrevAbs, double preNAbs, double recurrentAbs) =>
        16 * Math.Pow(2, -24) * (1 + hPrevAbs + preNAbs + recurrentAbs);

    // Backward in float against central differences of the double oracle (step 1e-6, truncation error ≈ 1e-12): as
    // for the LSTM cell, about 30 roundings of 2^-24 on terms of size ≤ 1 + |h'| + |W_hn| sums, plus the forward's
    // activation error propagated: 4e-6 relative to 1 + |gradient| covers both.
    private const double BackwardTolerance = 4e-6;

    public static TheoryData<SimdPath, int, bool> PathsHiddenVariants()
    {
        var data = new TheoryData<SimdPath, int, bool>();
        foreach (SimdPath p in SimdPaths.Available)
        {
            foreach (int h in TestData.AwkwardSizes)
            {
                data.Add(p, h, true);
                data.Add(p, h, false);
            }
        }
        return data;
    }

    // hPrev has row stride H + 2 (its gaps are NaN: a kernel that read them would show it).
    private sealed record Case(int B, int H, float[] Pre, float[] Hidden, float[] Bias, float[] HPrev, float[] Dh, float[] WHn)
    {
        public int LdhPrev => H + 2;

        public float HPrevAt(int b, int j) => HPrev[(b * LdhPrev) + j];
    }

    private static Case MakeCase(int b, int h, int seed)
    {
        float[] hPrev = TestData.Uniform(b * (h + 2), seed + 3, 1f);
        for (int r = 0; r < b; r++)
        {
            hPrev[(r * (h + 2)) + h] = hPrev[(r * (h + 2)) + h + 1] = float.NaN;
        }
        return new(b, h, TestData.Uniform(b * 3 * h, seed, 3f), TestData.Uniform(b * 3 * h, seed + 1, 2f), TestData.Uniform(h, seed + 2, 0.5f),
            hPrev, TestData.Uniform(b * h, seed + 4), TestData.Uniform(h * h, seed + 5, 1f / MathF.Sqrt(Math.Max(h, 1))));
    }

    // The n block of hidden gets (r⊙h')·W_hnᵀ here, in float, the same on every path: the caller's GEMM.
    private static void CandidateProduct(Case k, float[] resetHidden, float[] hidden)
    {
        for (int b = 0; b < k.B; b++)
        {
            for (int j = 0; j < k.H; j++)
            {
                float s = 0;
                for (int i = 0; i < k.H; i++) s = MathF.FusedMultiplyAdd(resetHidden[(b * k.H) + i], k.WHn[(j * k.H) + i], s);
                hidden[(b * 3 * k.H) + (2 * k.H) + j] = s;
            }
        }
    }

    private static (float[] Gates, float[] H, float[] Saved) RunForward(Case k, bool beforeReset, SimdPath path, int ldh)
    {
        float[] gates = (float[])k.Pre.Clone(), hidden = (float[])k.Hidden.Clone(), saved = new float[k.B * k.H];
        float[] h = Enumerable.Repeat(-9f, k.B == 0 ? 0 : ((k.B - 1) * ldh) + k.H).ToArray();
        if (beforeReset)
        {
            GruCell.Forward(gates, hidden, k.Bias, k.B, k.H, k.HPrev, k.LdhPrev, h, ldh, saved, path);
        }
        else
        {
            GruCell.ForwardResetGates(gates, hidden, k.B, k.H, k.HPrev, k.LdhPrev, saved, path);
            CandidateProduct(k, saved, hidden);
            GruCell.ForwardCandidate(gates, hidden, k.Bias, k.B, k.H, k.HPrev, k.LdhPrev, h, ldh, path);
        }
        return (gates, h, saved);
    }

    private static (float[] DGates, float[] DHidden, float[] DhPrev) RunBackward(Case k, bool beforeReset, SimdPath path, float[] gates, float[] saved)
    {
        float[] dGates = new float[k.B * 3 * k.H], dHidden = new float[k.B * 3 * k.H], dhPrev = new float[k.B * k.H];
        if (beforeReset)
        {
            GruCell.Backward(gates, saved, k.B, k.H, k.HPrev, k.LdhPrev, k.Dh, dGates, dHidden, dhPrev, path);
            return (dGates, dHidden, dhPrev);
        }
        GruCell.BackwardCandidate(gates, k.B, k.H, k.HPrev, k.LdhPrev, k.Dh, dGates, dHidden, dhPrev, path);
        float[] dReset = new float[k.B * k.H]; // d(r⊙h') = dG_n·W_hn: the caller's GEMM
        for (int b = 0; b < k.B; b++)
        {
            for (int i = 0; i < k.H; i++)
            {
                float s = 0;
                for (int j = 0; j < k.H; j++) s = MathF.FusedMultiplyAdd(dHidden[(b * 3 * k.H) + (2 * k.H) + j], k.WHn[(j * k.H) + i], s);
                dReset[(b * k.H) + i] = s;
            }
        }
        GruCell.BackwardResetGates(gates, k.B, k.H, k.HPrev, k.LdhPrev, dReset, dGates, dHidden, dhPrev, path);
        return (dGates, dHidden, dhPrev);
    }

    [Theory]
    [MemberData(nameof(PathsHiddenVariants))]
    public void ForwardAndBackward_EqualScalarTwin_BitForBit(SimdPath path, int hidden, bool beforeReset)
    {
        Case k = MakeCase(3, hidden, hidden + (beforeReset ? 0 : 1000));
        var (g0, h0, s0) = RunForward(k, beforeReset, SimdPath.Scalar, hidden + 3);
        var (g1, h1, s1) = RunForward(k, beforeReset, path, hidden + 3);
        TestData.AssertBitwiseEqual(g0, g1, "activations");
        TestData.AssertBitwiseEqual(h0, h1, "h (and the gaps between rows)");
        TestData.AssertBitwiseEqual(s0, s1, "saved");

        var (d0, dh0, dp0) = RunBackward(k, beforeReset, SimdPath.Scalar, g0, s0);
        var (d1, dh1, dp1) = RunBackward(k, beforeReset, path, g1, s1);
        TestData.AssertBitwiseEqual(d0, d1, "dGates");
        TestData.AssertBitwiseEqual(dh0, dh1, "dHiddenGates");
        TestData.AssertBitwiseEqual(dp0, dp1, "dhPrev");
    }

    [Theory]
    [MemberData(nameof(PathsHiddenVariants))]
    public void Forward_MatchesDoubleOracle(SimdPath path, int hidden, bool beforeReset)
    {
        Case k = MakeCase(2, hidden, 7 + hidden);
        var (gates, h, _) = RunForward(k, beforeReset, path, hidden);
        for (int b = 0; b < k.B; b++)
        {
            var (eh, ea) = Oracle(k, b, beforeReset);
            for (int j = 0; j < hidden; j++)
            {
                double recurrent = beforeReset
                    ? Math.Abs(k.Hidden[(b * 3 * hidden) + (2 * hidden) + j]) + Math.Abs(k.Bias[j])
                    : Math.Abs(k.Bias[j]) + Enumerable.Range(0, hidden).Sum(i => Math.Abs(k.WHn[(j * hidden) + i] * k.HPrevAt(b, i)));
                double bound = ForwardBound(Math.Abs(k.HPrevAt(b, j)), Math.Abs(k.Pre[(b * 3 * hidden) + (2 * hidden) + j]), recurrent);
                Assert.True(Math.Abs(h[(b * hidden) + j] - eh[j]) <= bound, $"h[{b},{j}] = {h[(b * hidden) + j]} vs {eh[j]}");
                for (int gate = 0; gate < 3; gate++)
                {
                    int idx = (gate * hidden) + j;
                    Assert.True(Math.Abs(gates[(b * 3 * hidden) + idx] - ea[idx]) <= bound, $"gate {gate} unit {j}: {gates[(b * 3 * hidden) + idx]} vs {ea[idx]}");
                }
            }
        }
    }

    private static (double[] H, double[] Act) Oracle(Case k, int b, bool beforeReset, double[]? pre = null, double[]? hidden = null, double[]? bias = null, double[]? hPrev = null)
    {
        int h = k.H;
        pre ??= k.Pre.Select(v => (double)v).ToArray();
        hidden ??= k.Hidden.Select(v => (double)v).ToArray();
        bias ??= k.Bias.Select(v => (double)v).ToArray();
        hPrev ??= k.HPrev.Select(v => (double)v).ToArray();
        return GruCellOracle.Forward(pre[(b * 3 * h)..((b + 1) * 3 * h)], hidden[(b * 3 * h)..((b + 1) * 3 * h)], bias,
            hPrev[(b * k.LdhPrev)..((b * k.LdhPrev) + h)], h, beforeReset, beforeReset ? null : k.WHn.Select(v => (double)v).ToArray());
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Backward_MatchesCentralDifferencesOfTheDoubleOracle(bool beforeReset)
    {
        const int H = 11, B = 2;
        Case k = MakeCase(B, H, beforeReset ? 31 : 32);
        double[] pre = k.Pre.Select(v => (double)v).ToArray();
        double[] hidden = k.Hidden.Select(v => (double)v).ToArray();
        double[] bias = k.Bias.Select(v => (double)v).ToArray();
        double[] hPrev = k.HPrev.Select(v => (double)v).ToArray();

        // L = Σ dh ⊙ h over the batch: its gradient is what the backward passes return.
        double Loss()
        {
            double sum = 0;
            for (int b = 0; b < B; b++)
            {
                double[] h = Oracle(k, b, beforeReset, pre, hidden, bias, hPrev).H;
                for (int j = 0; j < H; j++) sum += k.Dh[(b * H) + j] * h[j];
            }
            return sum;
        }
        double Fd(double[] x, int i)
        {
            const double Step = 1e-6;
            double keep = x[i];
            x[i] = keep + Step;
            double up = Loss();
            x[i] = keep - Step;
            double down = Loss();
            x[i] = keep;
            return (up - down) / (2 * Step);
        }
        void Near(double actual, double fd, string what) =>
            Assert.True(Math.Abs(actual - fd) <= BackwardTolerance * (1 + Math.Abs(fd)), $"{what} = {actual} vs {fd}");

        foreach (SimdPath path in SimdPaths.Available)
        {
            var (gates, _, saved) = RunForward(k, beforeReset, path, H);
            var (dGates, dHidden, dhPrev) = RunBackward(k, beforeReset, path, gates, saved);
            for (int i = 0; i < pre.Length; i++)
            {
                Near(dGates[i], Fd(pre, i), $"{path}: dGates[{i}]");
            }
            for (int b = 0; b < B; b++)
            {
                // Without linear_before_reset the n block of hidden is the candidate product, not an input: its
                // gradient is that of b_hn, checked below.
                for (int i = 0; i < (beforeReset ? 3 : 2) * H; i++)
                {
                    Near(dHidden[(b * 3 * H) + i], Fd(hidden, (b * 3 * H) + i), $"{path}: dHiddenGates[{b}, {i}]");
                }
                for (int j = 0; j < H; j++)
                {
                    Near(dhPrev[(b * H) + j], Fd(hPrev, (b * k.LdhPrev) + j), $"{path}: dhPrev[{b}, {j}]");
                }
            }
            for (int j = 0; j < H; j++)
            {
                // b_hn is shared by the rows: its gradient is the sum of the rows' n blocks of dHiddenGates.
                double sum = 0;
                for (int b = 0; b < B; b++) sum += dHidden[(b * 3 * H) + (2 * H) + j];
                Near(sum, Fd(bias, j), $"{path}: db_hn[{j}]");
            }
        }
    }

    [Theory]
    [MemberData(nameof(TestData.Paths), MemberType = typeof(TestData))]
    public void SpecialValues_MatchScalarTwin_AndStayBounded(SimdPath path)
    {
        float[] special = ActivationTests.SpecialValues;
        int h = 3 * special.Length; // every value lands in vector lanes, in each block
        float[] Cycle(int n, int shift) => Enumerable.Range(0, n).Select(i => special[(i + shift) % special.Length]).ToArray();
        float[] pre = Cycle(3 * h, 0), hidden = Cycle(3 * h, 5), bias = Cycle(h, 11), hPrev = TestData.Uniform(h, 3, 1.5f);
        hPrev[7] = float.NaN;
        float[] dh = Cycle(h, 17);
        foreach (bool beforeReset in new[] { true, false })
        {
            float[][] Run(SimdPath p)
            {
                float[] g = (float[])pre.Clone(), hg = (float[])hidden.Clone(), outH = new float[h], saved = new float[h];
                float[] dGates = new float[3 * h], dHidden = new float[3 * h], dhPrev = new float[h];
                if (beforeReset)
                {
                    GruCell.Forward(g, hg, bias, 1, h, hPrev, h, outH, h, saved, p);
                    GruCell.Backward(g, saved, 1, h, hPrev, h, dh, dGates, dHidden, dhPrev, p);
                }
                else
                {
                    GruCell.ForwardResetGates(g, hg, 1, h, hPrev, h, saved, p);
                    GruCell.ForwardCandidate(g, hg, bias, 1, h, hPrev, h, outH, h, p);
                    GruCell.BackwardCandidate(g, 1, h, hPrev, h, dh, dGates, dHidden, dhPrev, p);
                    GruCell.BackwardResetGates(g, 1, h, hPrev, h, dh, dGates, dHidden, dhPrev, p);
                }
                return [g, outH, saved, dGates, dHidden, dhPrev];
            }
            float[][] scalar = Run(SimdPath.Scalar), vector = Run(path);
            for (int i = 0; i < scalar.Length; i++)
            {
                TestData.AssertBitwiseEqual(scalar[i], vector[i], $"output {i}, linear before reset {beforeReset}");
            }
            float[] y = vector[1];
            for (int j = 0; j < h; j++)
            {
                float[] inputs = [pre[j], pre[h + j], pre[(2 * h) + j], hidden[j], hidden[h + j], hidden[(2 * h) + j], bias[j], hPrev[j]];
                if (float.IsNaN(pre[(2 * h) + j]) || float.IsNaN(hPrev[j]) || float.IsNaN(pre[h + j]))
                {
                    Assert.True(float.IsNaN(y[j]), $"unit {j}: NaN in must give NaN out, got {y[j]}");
                }
                else if (beforeReset && inputs.All(float.IsFinite) && float.IsFinite(hidden[(2 * h) + j] + bias[j]))
                {
                    // n ∈ [-1, 1] and z ∈ [0, 1]: h = n + z(h' − n) lies between n and h', up to the rounding of h' − n
                    // and of the FMA (one ulp each of the larger magnitude).
                    float slack = 2 * MathF.BitIncrement(Math.Max(1f, Math.Abs(hPrev[j]))) - (2 * Math.Max(1f, Math.Abs(hPrev[j])));
                    Assert.InRange(y[j], Math.Min(-1f, hPrev[j]) - slack, Math.Max(1f, hPrev[j]) + slack);
                }
            }
        }
    }

    [Fact]
    public void Forward_AllowsHInPlaceOfHPrev()
    {
        Case k = MakeCase(2, 19, 5);
        var (_, expected, _) = RunForward(k, beforeReset: true, SimdPaths.Default, k.LdhPrev);
        float[] running = (float[])k.HPrev.Clone();
        GruCell.Forward((float[])k.Pre.Clone(), k.Hidden, k.Bias, 2, 19, running, k.LdhPrev, running, k.LdhPrev);
        for (int b = 0; b < 2; b++)
        {
            TestData.AssertBitwiseEqual(expected.AsSpan(b * k.LdhPrev, 19), running.AsSpan(b * k.LdhPrev, 19), "h in place");
        }
    }

    [Fact]
    public void BadShapes_ThrowNamingTheArgument()
    {
        var e = Assert.Throws<ArgumentException>(() => GruCell.Forward(new float[17], new float[18], new float[3], 2, 3, new float[6], 3, new float[6], 3));
        Assert.Equal("gates", e.ParamName);
        Assert.Contains("[2, 9]", e.Message);
        e = Assert.Throws<ArgumentException>(() => GruCell.Forward(new float[18], new float[9], new float[3], 2, 3, new float[6], 3, new float[6], 3));
        Assert.Equal("hiddenGates", e.ParamName);
        e = Assert.Throws<ArgumentException>(() => GruCell.Forward(new float[18], new float[18], new float[2], 2, 3, new float[6], 3, new float[6], 3));
        Assert.Equal("hiddenBias", e.ParamName);
        Assert.Contains("[3]", e.Message);
        e = Assert.Throws<ArgumentException>(() => GruCell.Forward(new float[18], new float[18], new float[3], 2, 3, new float[7], 5, new float[6], 3));
        Assert.Equal("hPrev", e.ParamName);
        e = Assert.Throws<ArgumentException>(() => GruCell.Forward(new float[18], new float[18], new float[3], 2, 3, new float[6], 3, new float[6], 3, new float[5]));
        Assert.Equal("saved", e.ParamName);
        Assert.Throws<ArgumentOutOfRangeException>(() => GruCell.Forward(new float[18], new float[18], new float[3], 2, 3, new float[6], 3, new float[6], 2));
        float[] shared = new float[8];
        e = Assert.Throws<ArgumentException>(() => GruCell.Forward(new float[18], new float[18], new float[3], 2, 3, shared.AsSpan(0, 6), 3, shared.AsSpan(1, 6), 3));
        Assert.Equal("h", e.ParamName);
        e = Assert.Throws<ArgumentException>(() => GruCell.ForwardResetGates(new float[18], new float[18], 2, 3, new float[6], 3, new float[5]));
        Assert.Equal("resetHidden", e.ParamName);
        e = Assert.Throws<ArgumentException>(() => GruCell.Backward(new float[18], new float[6], 2, 3, new float[6], 3, new float[6], new float[18], new float[17], new float[6]));
        Assert.Equal("dHiddenGates", e.ParamName);
        e = Assert.Throws<ArgumentException>(() => GruCell.Backward(new float[18], new float[5], 2, 3, new float[6], 3, new float[6], new float[18], new float[18], new float[6]));
        Assert.Equal("saved", e.ParamName);
        float[] d = new float[6];
        e = Assert.Throws<ArgumentException>(() => GruCell.BackwardResetGates(new float[18], 2, 3, new float[6], 3, d, new float[18], new float[18], d));
        Assert.Equal("dhPrev", e.ParamName);
        e = Assert.Throws<ArgumentException>(() => GruCell.BackwardCandidate(new float[18], 2, 3, new float[6], 3, new float[4], new float[18], new float[18], new float[6]));
        Assert.Equal("dh", e.ParamName);
    }
}
