using Lstm.Simd;

namespace Lstm.Core;

/// <summary>
/// W_ih or W_hh of one layer-direction packed for the kernels in one <see cref="WeightFormat"/>, behind the two GEMM
/// calls the forward paths make, so that <see cref="SequencePass"/>, the stream step and the thread split run every
/// format through the same code. Immutable and shareable.
/// </summary>
internal abstract class GateWeights(WeightFormat format, int rows, int columns)
{
    public WeightFormat Format => format;

    public int Rows => rows;

    public int Columns => columns;

    /// <summary>The float32 matrix, for the backward pass; training runs on float32 weights only.</summary>
    public virtual PackedMatrix Float =>
        throw new NotSupportedException($"Training needs float32 weights; this network's are {Format}. Train the float32 network and convert it.");

    /// <summary>C = A·Wᵀ + bias (when packed with one), or C += A·Wᵀ with <paramref name="accumulate"/>.</summary>
    public abstract void Multiply(ReadOnlySpan<float> a, int m, int lda, Span<float> c, int ldc, bool accumulate, SimdPath path);

    /// <summary>The weights as the kernels use them, as float32 [Rows, Columns] (int8: q · scale of its row).</summary>
    public abstract void CopyValues(Span<float> destination);

    /// <summary>
    /// Rows g·H + [start, start + count) of every gate g, stacked gate by gate (a thread's own hidden units), with
    /// <paramref name="bias"/> [G·count] folded in (or none). The rows keep their values bit for bit, so each output
    /// column is computed exactly as in the whole matrix.
    /// </summary>
    public abstract GateWeights Units(int gates, int hidden, int start, int count, ReadOnlySpan<float> bias);

    public static GateWeights Pack(ReadOnlySpan<float> weights, int rows, int columns, WeightFormat format, ReadOnlySpan<float> bias = default) => format switch
    {
        WeightFormat.Float32 => new FloatWeights(PackedMatrix.Pack(weights, rows, columns, bias)),
        WeightFormat.Float16 or WeightFormat.BFloat16 => new HalfWeights(PackedHalfMatrix.Pack(weights, rows, columns, format, bias)),
        WeightFormat.Int8 => new Int8Weights(PackedInt8Matrix.Quantize(weights, rows, columns, bias)),
        _ => throw new ArgumentOutOfRangeException(nameof(format), format, "Unknown weight format."),
    };

    /// <summary>A 16-bit weight as float32 (exact: both formats widen losslessly).</summary>
    public static float ToSingle(ushort bits, WeightFormat format) => format == WeightFormat.Float16
        ? (float)BitConverter.UInt16BitsToHalf(bits)
        : BitConverter.Int32BitsToSingle(bits << 16); // bfloat16: the high half of a float32

    /// <summary>The 16-bit pattern of a float32 that <paramref name="format"/> holds exactly, else null.</summary>
    public static ushort? ToBits(float value, WeightFormat format)
    {
        ushort bits = format == WeightFormat.Float16
            ? BitConverter.HalfToUInt16Bits((Half)value)
            : (ushort)(BitConverter.SingleToUInt32Bits(value) >> 16);
        return ToSingle(bits, format).Equals(value) ? bits : null;
    }

    // The rows of every gate's unit range, in gate order: [G·count, columns] out of [G·hidden, columns].
    protected static T[] GatherUnits<T>(ReadOnlySpan<T> all, int columns, int gates, int hidden, int start, int count)
    {
        var rows = new T[gates * count * columns];
        for (int g = 0; g < gates; g++)
        {
            all.Slice(((g * hidden) + start) * columns, count * columns).CopyTo(rows.AsSpan(g * count * columns));
        }
        return rows;
    }

    internal sealed class FloatWeights(PackedMatrix matrix) : GateWeights(WeightFormat.Float32, matrix.Rows, matrix.Columns)
    {
        public override PackedMatrix Float => matrix;

        public override void CopyValues(Span<float> destination) => matrix.CopyWeightsTo(destination);

        public override void Multiply(ReadOnlySpan<float> a, int m, int lda, Span<float> c, int ldc, bool accumulate, SimdPath path)
        {
            if (accumulate)
            {
                Gemm.MultiplyAdd(a, m, lda, matrix, c, ldc, path);
            }
            else
            {
                Gemm.Multiply(a, m, lda, matrix, c, ldc, path);
            }
        }

        public override GateWeights Units(int gates, int hidden, int start, int count, ReadOnlySpan<float> bias)
        {
            float[] all = new float[Rows * Columns];
            matrix.CopyWeightsTo(all);
            return new FloatWeights(PackedMatrix.Pack(GatherUnits<float>(all, Columns, gates, hidden, start, count), gates * count, Columns, bias));
        }
    }

    internal sealed class HalfWeights(PackedHalfMatrix matrix) : GateWeights(matrix.Format, matrix.Rows, matrix.Columns)
    {
        public PackedHalfMatrix Matrix => matrix;

        public override void Multiply(ReadOnlySpan<float> a, int m, int lda, Span<float> c, int ldc, bool accumulate, SimdPath path) =>
            QuantizedGemm.Multiply(a, m, lda, matrix, c, ldc, accumulate, path);

        public override void CopyValues(Span<float> destination) => matrix.CopyWeightsTo(destination);

        public override GateWeights Units(int gates, int hidden, int start, int count, ReadOnlySpan<float> bias)
        {
            ushort[] all = new ushort[Rows * Columns];
            matrix.CopyBits(all);
            return new HalfWeights(PackedHalfMatrix.FromBits(GatherUnits<ushort>(all, Columns, gates, hidden, start, count), gates * count, Columns, Format, bias));
        }
    }

    internal sealed class Int8Weights(PackedInt8Matrix matrix) : GateWeights(WeightFormat.Int8, matrix.Rows, matrix.Columns)
    {
        public PackedInt8Matrix Matrix => matrix;

        public override void Multiply(ReadOnlySpan<float> a, int m, int lda, Span<float> c, int ldc, bool accumulate, SimdPath path) =>
            QuantizedGemm.Multiply(a, m, lda, matrix, c, ldc, accumulate, path);

        public override void CopyValues(Span<float> destination)
        {
            sbyte[] q = new sbyte[Rows * Columns];
            float[] scales = new float[Rows];
            matrix.CopyQuantized(q, scales);
            for (int i = 0; i < q.Length; i++)
            {
                destination[i] = q[i] * scales[i / Columns];
            }
        }

        public override GateWeights Units(int gates, int hidden, int start, int count, ReadOnlySpan<float> bias)
        {
            sbyte[] q = new sbyte[Rows * Columns];
            float[] scales = new float[Rows];
            matrix.CopyQuantized(q, scales);
            return new Int8Weights(PackedInt8Matrix.FromQuantized(
                GatherUnits<sbyte>(q, Columns, gates, hidden, start, count), GatherUnits<float>(scales, 1, gates, hidden, start, count),
                gates * count, Columns, bias));
        }
    }
}
