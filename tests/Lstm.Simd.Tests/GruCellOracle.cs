namespace Lstm.Simd.Tests;

/// <summary>The GRU cell in double, one line per equation: the oracle for the fused kernels.</summary>
internal static class GruCellOracle
{
    /// <summary>
    /// One row. pre: [3H] input side (r, z, n); hidden: [3H] h'·W_hhᵀ (linearBeforeReset) or [2H] r and z only (else);
    /// bias: [H] b_hn; hPrev: [H]; wHn: [H, H] (only without linearBeforeReset). Returns (h, activations r, z, n [3H]).
    /// </summary>
    public static (double[] H, double[] Act) Forward(double[] pre, double[] hidden, double[] bias, double[] hPrev, int h, bool linearBeforeReset, double[]? wHn)
    {
        var hOut = new double[h];
        var act = new double[3 * h];
        var r = new double[h];
        for (int j = 0; j < h; j++)
        {
            r[j] = CellOracle.Sigmoid(pre[j] + hidden[j]);                          // r = σ(G_r + H_r)
        }
        for (int j = 0; j < h; j++)
        {
            double z = CellOracle.Sigmoid(pre[h + j] + hidden[h + j]);              // z = σ(G_z + H_z)
            double q;
            if (linearBeforeReset)
            {
                q = r[j] * (hidden[(2 * h) + j] + bias[j]);                         // r ⊙ (W_hn h' + b_hn)
            }
            else
            {
                q = bias[j];                                                        // W_hn (r ⊙ h') + b_hn
                for (int k = 0; k < h; k++) q += wHn![(j * h) + k] * r[k] * hPrev[k];
            }
            double n = Math.Tanh(pre[(2 * h) + j] + q);                             // n = tanh(G_n + q)
            hOut[j] = ((1 - z) * n) + (z * hPrev[j]);                               // h = (1 − z) n + z h'
            act[j] = r[j]; act[h + j] = z; act[(2 * h) + j] = n;
        }
        return (hOut, act);
    }
}
