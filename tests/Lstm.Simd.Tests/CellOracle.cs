namespace Lstm.Simd.Tests;

/// <summary>The LSTM cell in double, one line per equation: the oracle for the fused kernels.</summary>
internal static class CellOracle
{
    public static double Sigmoid(double x) => 1 / (1 + Math.Exp(-x));

    /// <summary>Forward for one row. pre: [4H] (i, f, g, o), cPrev: [H], peep: [3H] or null. Returns (h, c, activations [4H]).</summary>
    public static (double[] H, double[] C, double[] Act) Forward(double[] pre, double[] cPrev, int hidden, bool forget, double[]? peep)
    {
        var h = new double[hidden];
        var c = new double[hidden];
        var act = new double[4 * hidden];
        for (int j = 0; j < hidden; j++)
        {
            double cp = cPrev[j];
            double i = Sigmoid(pre[j] + (peep is null ? 0 : peep[j] * cp));                  // i = σ(G_i + p_i c')
            double f = forget ? Sigmoid(pre[hidden + j] + (peep is null ? 0 : peep[hidden + j] * cp)) : 1; // f = σ(G_f + p_f c')
            double g = Math.Tanh(pre[(2 * hidden) + j]);                                        // g = tanh(G_g)
            c[j] = (f * cp) + (i * g);                                                           // c = f c' + i g
            double o = Sigmoid(pre[(3 * hidden) + j] + (peep is null ? 0 : peep[(2 * hidden) + j] * c[j])); // o = σ(G_o + p_o c)
            h[j] = o * Math.Tanh(c[j]);                                                          // h = o tanh(c)
            act[j] = i; act[hidden + j] = f; act[(2 * hidden) + j] = g; act[(3 * hidden) + j] = o;
        }
        return (h, c, act);
    }
}
