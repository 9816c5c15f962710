namespace Lstm.Core.Reference;

/// <summary>
/// Central finite differences in double on the reference network, against its analytic backward pass, for the loss
/// L = Σ y·dy + Σ hn·dhn + Σ cn·dcn. Reports, per parameter tensor (and x, h0, c0), the worst relative error
/// |analytic - numeric| / max(|analytic|, |numeric|, <see cref="Floor"/>).
/// </summary>
public static class GradientChecker
{
    /// <summary>
    /// Gradients smaller than this are compared absolutely: with step 1e-5 the numeric derivative carries about 1e-10
    /// of rounding and truncation error, which would swamp a relative comparison of smaller values.
    /// </summary>
    public const double Floor = 1e-3;

    public const double Step = 1e-5;

    public static IReadOnlyDictionary<string, double> Check(ReferenceNetwork network, double[] x, int steps, int batch,
        double[]? h0, double[]? c0, double[] dy, double[]? dhn, double[]? dcn) =>
        Check(network, x, steps, batch, h0, c0, dy, dhn, dcn, Enumerable.Repeat(steps, Math.Max(0, batch)).ToArray());

    /// <summary>The same on a padded batch whose row b has <paramref name="lengths"/>[b] valid steps.</summary>
    public static IReadOnlyDictionary<string, double> Check(ReferenceNetwork network, double[] x, int steps, int batch,
        double[]? h0, double[]? c0, double[] dy, double[]? dhn, double[]? dcn, int[] lengths)
    {
        ArgumentNullException.ThrowIfNull(network);
        ArgumentNullException.ThrowIfNull(x);
        int states = network.Options.Directions * network.Options.Layers * batch;
        double[] h0v = h0 ?? new double[states * network.Options.HiddenStateSize];
        double[] c0v = c0 ?? new double[states * network.Options.HiddenSize];
        ReferenceGradients analytic = network.Backward(network.Forward(x, steps, batch, h0v, c0v, lengths), dy, dhn, dcn);

        double Loss()
        {
            ReferenceTrace t = network.Forward(x, steps, batch, h0v, c0v, lengths);
            double sum = Dot(t.Output, dy) + Dot(t.Hn, dhn);
            return network.Options.Cell == CellKind.Lstm ? sum + Dot(t.Cn, dcn) : sum;
        }

        var worst = new Dictionary<string, double>(StringComparer.Ordinal);
        void Probe(string name, double[] values, double[] grad)
        {
            double w = 0;
            for (int i = 0; i < values.Length; i++)
            {
                double keep = values[i];
                values[i] = keep + Step;
                double up = Loss();
                values[i] = keep - Step;
                double down = Loss();
                values[i] = keep;
                double numeric = (up - down) / (2 * Step);
                w = Math.Max(w, Math.Abs(grad[i] - numeric) / Math.Max(Math.Max(Math.Abs(grad[i]), Math.Abs(numeric)), Floor));
            }
            worst[name] = w;
        }

        foreach (ParameterInfo info in network.Infos)
        {
            Probe(info.Name, network.Parameters[info.Name], analytic.Parameters[info.Name]);
        }
        Probe("x", x, analytic.DX);
        Probe("h0", h0v, analytic.DH0);
        if (network.Options.Cell == CellKind.Lstm)
        {
            Probe("c0", c0v, analytic.DC0);
        }
        return worst;
    }

    private static double Dot(double[] a, double[]? b)
    {
        if (b is null) return 0;
        double s = 0;
        for (int i = 0; i < a.Length; i++) s += a[i] * b[i];
        return s;
    }
}
