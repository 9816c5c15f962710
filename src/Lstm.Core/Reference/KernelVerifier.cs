using Lstm.Simd;

namespace Lstm.Core.Reference;

/// <summary>One line of a verification report: what was checked, the worst error seen and the bound it must meet.</summary>
public sealed record VerificationLine(string Check, double Worst, double Bound, string Unit)
{
    public bool Passed => Worst <= Bound;
}

/// <summary>
/// Checks the kernels on this CPU: every SIMD path against the scalar twin (bitwise), sigmoid and tanh against a
/// double-precision oracle, and a small network's gradients against finite differences. Used by `lstm verify` and
/// the benchmark project's exhaustive mode.
/// </summary>
public static class KernelVerifier
{
    /// <summary>The README's bounds: sigmoid ≤ 2.5 ulp and 1e-7 absolute, tanh ≤ 2.5 ulp and 3.2e-7 absolute.</summary>
    public const double SigmoidMaxUlp = 2.5, SigmoidMaxAbs = 1e-7, TanhMaxUlp = 2.5, TanhMaxAbs = 3.2e-7, GradientMaxRelative = 1e-6;

    /// <summary>Every <paramref name="stride"/>-th float in [-20, 20] through both activations on the default path.</summary>
    public static IReadOnlyList<VerificationLine> Activations(uint stride)
    {
        uint limit = BitConverter.SingleToUInt32Bits(20f);
        const int Chunk = 1 << 16;
        long chunks = ((limit / stride) + Chunk) / Chunk;
        var worst = new double[4]; // sigmoid ulp, sigmoid abs, tanh ulp, tanh abs
        object gate = new();
        Parallel.For(0, chunks * 2, () => new double[4], (job, _, local) =>
        {
            float sign = (job & 1) == 1 ? -1f : 1f;
            uint first = (uint)(job / 2) * Chunk * stride;
            float[] x = new float[Chunk], y = new float[Chunk];
            int n = 0;
            for (uint b = first; n < Chunk && b <= limit; b += stride) x[n++] = sign * BitConverter.UInt32BitsToSingle(b);
            for (int fn = 0; fn < 2; fn++)
            {
                if (fn == 0) Activation.Sigmoid(x.AsSpan(0, n), y.AsSpan(0, n)); else Activation.Tanh(x.AsSpan(0, n), y.AsSpan(0, n));
                for (int i = 0; i < n; i++)
                {
                    double exact = fn == 0 ? 1 / (1 + Math.Exp(-(double)x[i])) : Math.Tanh(x[i]);
                    double err = double.IsNaN(y[i]) ? double.PositiveInfinity : Math.Abs(y[i] - exact);
                    double ulp = Math.Pow(2, Math.Max((exact == 0 ? -149 : Math.ILogB(Math.Abs(exact))) - 23, -149));
                    local[2 * fn] = Math.Max(local[2 * fn], err / ulp);
                    local[(2 * fn) + 1] = Math.Max(local[(2 * fn) + 1], err);
                }
            }
            return local;
        }, local => { lock (gate) { for (int i = 0; i < 4; i++) worst[i] = Math.Max(worst[i], local[i]); } });
        string what = stride == 1 ? "every float" : $"every {stride}th float";
        return
        [
            new($"sigmoid vs double oracle, {what} in [-20, 20]", worst[0], SigmoidMaxUlp, "ulp"),
            new("sigmoid absolute error", worst[1], SigmoidMaxAbs, ""),
            new($"tanh vs double oracle, {what} in [-20, 20]", worst[2], TanhMaxUlp, "ulp"),
            new("tanh absolute error", worst[3], TanhMaxAbs, ""),
        ];
    }

    /// <summary>Each path's activations, GEMMs (float32, 16-bit, int8), LSTM cell and GRU cell against the scalar twin: the count of differing bits patterns (bound 0).</summary>
    public static IReadOnlyList<VerificationLine> PathsAgainstScalar()
    {
        var lines = new List<VerificationLine>();
        var rng = new Training.SeededRandom(5);
        float[] R(int n, double s) => Enumerable.Range(0, n).Select(_ => (float)rng.Uniform(-s, s)).ToArray();
        float[] x = R(1031, 12);
        float[] w = R(133 * 71, 1), a = R(9 * 71, 1), bias = R(133, 1);
        PackedMatrix packed = PackedMatrix.Pack(w, 133, 71, bias);
        float[] pre = R(3 * 4 * 37, 4), cPrev = R(3 * 37, 2);
        float[] Run(SimdPath p, int kernel)
        {
            switch (kernel)
            {
                case 0: { float[] y = new float[x.Length]; Activation.Sigmoid(x, y, p); return y; }
                case 1: { float[] y = new float[x.Length]; Activation.Tanh(x, y, p); return y; }
                case 2: { float[] c = new float[9 * 133]; Gemm.Multiply(a, 9, packed, c, p); return c; }
                case 4: return GruCellRun(pre.AsSpan(0, 3 * 3 * 37), cPrev, p);
                default:
                {
                    float[] g = (float[])pre.Clone(), c = new float[3 * 37], h = new float[3 * 37];
                    LstmCell.Forward(g, 3, 37, cPrev, c, h, 37, LstmCellOptions.Default, path: p);
                    return [.. g, .. c, .. h];
                }
            }
        }
        string[] names = ["sigmoid", "tanh", "gate GEMM 9×133×71", "LSTM cell B=3 H=37", "GRU cell B=3 H=37, forward and backward"];
        foreach (SimdPath p in SimdPaths.Available.Where(p => p != SimdPath.Scalar))
        {
            for (int k = 0; k < names.Length; k++)
            {
                float[] s = Run(SimdPath.Scalar, k), v = Run(p, k);
                int diff = s.Zip(v).Count(t => BitConverter.SingleToInt32Bits(t.First) != BitConverter.SingleToInt32Bits(t.Second));
                lines.Add(new($"{names[k]}: {SimdPaths.Name(p)} vs scalar", diff, 0, "values differing"));
            }
        }
        // The 16-bit and int8 GEMMs: every path and int8 tile (VNNI or widening) against the scalar twin.
        lines.AddRange(QuantizedKernelCheck.Run().Select(r => new VerificationLine(r.Kernel, r.Differing, 0, "values differing")));
        return lines;
    }

    // The GRU cell forward and backward (r after the product), with the input gates standing in for the recurrent product too.
    private static float[] GruCellRun(ReadOnlySpan<float> pre, float[] hPrev, SimdPath p)
    {
        const int B = 3, H = 37;
        float[] g = pre.ToArray(), hidden = [.. pre[(3 * H)..], .. pre[..(3 * H)]], h = new float[B * H], saved = new float[B * H];
        float[] dGates = new float[B * 3 * H], dHidden = new float[B * 3 * H], dhPrev = new float[B * H];
        GruCell.Forward(g, hidden, hPrev.AsSpan(0, H), B, H, hPrev, H, h, H, saved, p);
        GruCell.Backward(g, saved, B, H, hPrev, H, h, dGates, dHidden, dhPrev, p);
        return [.. g, .. h, .. saved, .. dGates, .. dHidden, .. dhPrev];
    }

    /// <summary>A small stacked bidirectional LSTM with peepholes: reference gradients against central differences.</summary>
    public static VerificationLine GradientCheck()
    {
        var o = new RecurrentOptions(3, 4, Layers: 2, Bidirectional: true, Peepholes: true);
        var net = ReferenceNetwork.From(RecurrentNetwork.Create(o, 1));
        var rng = new Training.SeededRandom(2);
        double[] R(int n) => Enumerable.Range(0, n).Select(_ => rng.Uniform(-1, 1)).ToArray();
        int state = 2 * 2 * 2 * 4;
        var worst = GradientChecker.Check(net, R(4 * 2 * 3), 4, 2, R(state), R(state), R(4 * 2 * 8), R(state), R(state));
        return new("gradient check, 2-layer bidirectional LSTM with peepholes (worst tensor)", worst.Values.Max(), GradientMaxRelative, "relative");
    }
}
