namespace Lstm.Core.Training;

/// <summary>Losses with their gradients. Each returns the mean loss and writes the gradient of that mean.</summary>
public static class Losses
{
    /// <summary>A target that takes no part in the loss (for "only at the sequence end", mark the other steps with it).</summary>
    public const int Ignore = -1;

    /// <summary>
    /// Softmax cross-entropy over rows of <paramref name="logits"/> [rows, classes] against class indices
    /// (<see cref="Ignore"/> skips a row). Returns the mean over counted rows (0 if none); writes
    /// dLogits = (softmax - onehot) / counted, and 0 for ignored rows. Computed in double, max-shifted.
    /// </summary>
    public static double SoftmaxCrossEntropy(ReadOnlySpan<float> logits, int rows, int classes, ReadOnlySpan<int> targets, Span<float> dLogits)
    {
        CheckShape(logits.Length, (long)rows * classes, nameof(logits), rows, classes);
        CheckShape(dLogits.Length, (long)rows * classes, nameof(dLogits), rows, classes);
        CheckShape(targets.Length, rows, nameof(targets), rows, 1);
        int counted = 0;
        foreach (int t in targets)
        {
            if (t == Ignore) continue;
            if ((uint)t >= (uint)classes) throw new ArgumentOutOfRangeException(nameof(targets), t, $"A target must be in [0, {classes}) or Ignore.");
            counted++;
        }
        double total = 0;
        for (int r = 0; r < rows; r++)
        {
            ReadOnlySpan<float> z = logits.Slice(r * classes, classes);
            Span<float> dz = dLogits.Slice(r * classes, classes);
            if (targets[r] == Ignore)
            {
                dz.Clear();
                continue;
            }
            double max = double.NegativeInfinity;
            foreach (float v in z) max = Math.Max(max, v);
            double sum = 0;
            foreach (float v in z) sum += Math.Exp(v - max);
            double logSum = max + Math.Log(sum);
            total += logSum - z[targets[r]];                            // -log softmax(z)_target
            for (int c = 0; c < classes; c++)
            {
                double p = Math.Exp(z[c] - logSum);
                dz[c] = (float)((p - (c == targets[r] ? 1 : 0)) / counted); // (softmax - onehot) / N
            }
        }
        return counted == 0 ? 0 : total / counted;
    }

    /// <summary>Mean over all elements of (y - target)²; writes dY = 2 (y - target) / n.</summary>
    public static double MeanSquaredError(ReadOnlySpan<float> y, ReadOnlySpan<float> target, Span<float> dY)
    {
        CheckShape(target.Length, y.Length, nameof(target), y.Length, 1);
        CheckShape(dY.Length, y.Length, nameof(dY), y.Length, 1);
        double total = 0;
        for (int i = 0; i < y.Length; i++)
        {
            double d = (double)y[i] - target[i];
            total += d * d;
            dY[i] = (float)(2 * d / y.Length);
        }
        return y.Length == 0 ? 0 : total / y.Length;
    }

    /// <summary>Softmax of one row into <paramref name="probabilities"/>, with a temperature (for sampling).</summary>
    public static void Softmax(ReadOnlySpan<float> logits, double temperature, Span<double> probabilities)
    {
        // Shift before dividing: (z - max) / T is 0 for the largest logit and ≤ 0 elsewhere for any T > 0, so a tiny T
        // (even 1e-308, where z / T overflows to ∞ and ∞ - ∞ is NaN) gives the one-hot of the largest logit.
        double max = double.NegativeInfinity;
        foreach (float v in logits) max = Math.Max(max, v);
        double sum = 0;
        for (int c = 0; c < logits.Length; c++) sum += probabilities[c] = Math.Exp((logits[c] - max) / temperature);
        for (int c = 0; c < logits.Length; c++) probabilities[c] /= sum;
    }

    private static void CheckShape(long actual, long expected, string name, int rows, int cols)
    {
        if (actual != expected)
        {
            throw new ArgumentException($"{name} has {actual} elements; expected [{rows}, {cols}] = {expected}.", name);
        }
    }
}
