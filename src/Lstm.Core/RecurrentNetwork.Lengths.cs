namespace Lstm.Core;

public sealed partial class RecurrentNetwork
{
    /// <summary>
    /// <see cref="Forward(ReadOnlySpan{float}, int, int, ReadOnlySpan{float}, ReadOnlySpan{float})"/> on a padded batch
    /// whose row b holds <paramref name="lengths"/>[b] valid steps (PyTorch's <c>pack_padded_sequence</c>, ONNX's
    /// <c>sequence_lens</c>): outputs past a row's length are 0, hn and cn are each row's state after its last valid step
    /// (h0, c0 for a length of 0), and a reverse direction starts at each row's last valid step. The cost follows the
    /// lengths: rows are sorted by length once and each step runs only the rows still going. Runs on one thread.
    /// <paramref name="lengths"/> is [B], each in [0, T].
    /// </summary>
    public SequenceOutput Forward(ReadOnlySpan<float> x, int steps, int batch, ReadOnlySpan<int> lengths) =>
        Forward(x, steps, batch, lengths, default, default);

    /// <inheritdoc cref="Forward(ReadOnlySpan{float}, int, int, ReadOnlySpan{int})"/>
    public SequenceOutput Forward(ReadOnlySpan<float> x, int steps, int batch, ReadOnlySpan<int> lengths, ReadOnlySpan<float> h0, ReadOnlySpan<float> c0)
    {
        return Infer(x, steps, batch, h0, c0, Packing.Of(lengths, steps, batch));
    }

    /// <summary>
    /// <see cref="ForwardTraining(ReadOnlySpan{float}, int, int, ReadOnlySpan{float}, ReadOnlySpan{float}, float, Training.SeededRandom?)"/>
    /// on a padded batch with <paramref name="lengths"/> (see <see cref="Forward(ReadOnlySpan{float}, int, int, ReadOnlySpan{int})"/>). The trace keeps the
    /// lengths: <see cref="Backward(TrainingTrace, ReadOnlySpan{float}, ReadOnlySpan{float}, ReadOnlySpan{float}, ParameterSet)"/> gives padded positions of dX a gradient of 0 and ignores dy there.
    /// </summary>
    public TrainingTrace ForwardTraining(ReadOnlySpan<float> x, int steps, int batch, ReadOnlySpan<int> lengths) =>
        ForwardTraining(x, steps, batch, lengths, default, default);

    /// <inheritdoc cref="ForwardTraining(ReadOnlySpan{float}, int, int, ReadOnlySpan{int})"/>
    public TrainingTrace ForwardTraining(ReadOnlySpan<float> x, int steps, int batch, ReadOnlySpan<int> lengths, ReadOnlySpan<float> h0, ReadOnlySpan<float> c0,
        float dropout = 0, Training.SeededRandom? random = null)
    {
        ThrowUnlessFloat32(nameof(ForwardTraining));
        CheckDropout(dropout, random);
        return Train(x, steps, batch, h0, c0, dropout, random, Packing.Of(lengths, steps, batch));
    }

    /// <summary>The batch rows sorted by length, longest first (stable), and how many are still going at each step.</summary>
    internal sealed class Packing
    {
        private Packing(int batch, int[] order, int[] alive)
        {
            Batch = batch;
            Order = order;
            Alive = alive;
        }

        public int Batch { get; }

        /// <summary>Order[r]: the caller's row that is sorted row r.</summary>
        public int[] Order { get; }

        /// <summary>[T]: the rows with length &gt; t, which are the sorted rows [0, Alive[t]).</summary>
        public int[] Alive { get; }

        /// <summary>Null when every length is T (the plain pass is the same); a length outside [0, T] names its row.</summary>
        public static Packing? Of(ReadOnlySpan<int> lengths, int steps, int batch)
        {
            ShapeCheck.NonNegative(steps, nameof(steps));
            ShapeCheck.NonNegative(batch, nameof(batch));
            if (lengths.Length != batch)
            {
                throw new ArgumentException($"lengths has {lengths.Length} elements; expected one per batch row, B = {batch}.", nameof(lengths));
            }
            bool all = true;
            for (int b = 0; b < batch; b++)
            {
                if (lengths[b] < 0 || lengths[b] > steps)
                {
                    throw new ArgumentOutOfRangeException(nameof(lengths), lengths[b], $"lengths[{b}] (batch row {b}) is {lengths[b]}; expected 0 ≤ length ≤ T = {steps}.");
                }
                all &= lengths[b] == steps;
            }
            if (all)
            {
                return null;
            }
            int[] copy = lengths.ToArray();
            int[] order = Enumerable.Range(0, batch).OrderByDescending(b => copy[b]).ToArray(); // OrderBy is stable
            int[] alive = new int[steps];
            for (int t = 0; t < steps; t++)
            {
                alive[t] = copy.Count(len => len > t);
            }
            return new Packing(batch, order, alive);
        }

        /// <summary>Sorts the rows of seq [T, B, width] and of the states [·, B, h] in place (empty arrays are skipped).</summary>
        public void ToSorted(float[] seq, int steps, int width, float[] h0, float[] c0, int h)
        {
            Permute(seq, steps, width, toSorted: true);
            SortRows(h0, h);
            SortRows(c0, h);
        }

        /// <summary>Sorts the rows of the first <paramref name="groups"/> blocks [B, width] of a [·, B, width] array in place (it may be longer: a pooled array).</summary>
        public void Sort(float[] a, int groups, int width) => Permute(a, groups, width, toSorted: true);

        /// <summary>The inverse of <see cref="Sort"/>: rows back in the caller's order.</summary>
        public void Unsort(float[] a, int groups, int width) => Permute(a, groups, width, toSorted: false);

        /// <summary>Sorts the rows of a [·, B, width] array in place (empty: nothing).</summary>
        public void SortRows(float[] a, int width) => Permute(a, a.Length / Math.Max(1, Batch * width), width, toSorted: true);

        /// <summary>Puts the rows of a [·, B, width] array back in the caller's order, in place.</summary>
        public void UnsortRows(float[] a, int width) => Permute(a, a.Length / Math.Max(1, Batch * width), width, toSorted: false);

        /// <summary>seq [T, B, width] in the caller's row order (a new array of exactly that size); the states [·, B, h] in place.</summary>
        public float[] FromSorted(float[] seq, int steps, int width, float[] hn, float[] cn, int h)
        {
            float[] result = seq.AsSpan(0, steps * Batch * width).ToArray();
            Permute(result, steps, width, toSorted: false);
            Permute(hn, hn.Length / Math.Max(1, Batch * h), h, toSorted: false);
            Permute(cn, cn.Length / Math.Max(1, Batch * h), h, toSorted: false);
            return result;
        }

        private void Permute(float[] a, int groups, int width, bool toSorted)
        {
            if (a.Length == 0 || width == 0 || groups == 0)
            {
                return;
            }
            int b = Batch, size = b * width;
            float[] copy = new float[size];
            for (int g = 0; g < groups; g++)
            {
                Span<float> block = a.AsSpan(g * size, size);
                block.CopyTo(copy);
                for (int r = 0; r < b; r++)
                {
                    int from = toSorted ? Order[r] : r, to = toSorted ? r : Order[r];
                    copy.AsSpan(from * width, width).CopyTo(block.Slice(to * width, width));
                }
            }
        }
    }
}
