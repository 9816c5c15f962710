using Lstm.Simd.GemmKernels;
using Lstm.Simd.QuantizedKernels;

namespace Lstm.Simd;

/// <summary>
/// A weight matrix W[N×K] in 16 bits per weight (<see cref="WeightFormat.Float16"/> or <see cref="WeightFormat.BFloat16"/>)
/// and an optional float32 bias[N], packed once for <see cref="QuantizedGemm"/>: panels of 16 output rows, each
/// panel K lines of 16 weights (32 bytes), the row count padded with zeros to a multiple of 64 as in
/// <see cref="PackedMatrix"/>. Every weight is finite. Immutable after packing; safe to share between threads.
/// </summary>
public sealed class PackedHalfMatrix
{
    private readonly AlignedArray<ushort> panels;
    private readonly AlignedArray<float>? bias;

    private PackedHalfMatrix(int rows, int columns, WeightFormat format, AlignedArray<ushort> panels, AlignedArray<float>? bias)
    {
        Rows = rows;
        Columns = columns;
        Format = format;
        this.panels = panels;
        this.bias = bias;
    }

    /// <summary>N: the number of outputs (rows of W).</summary>
    public int Rows { get; }

    /// <summary>K: the number of inputs (columns of W).</summary>
    public int Columns { get; }

    /// <summary><see cref="WeightFormat.Float16"/> or <see cref="WeightFormat.BFloat16"/>.</summary>
    public WeightFormat Format { get; }

    /// <summary>Whether a bias was packed with the weights.</summary>
    public bool HasBias => bias is not null;

    internal ReadOnlySpan<ushort> Panels => panels.Span;

    internal ReadOnlySpan<float> PaddedBias => bias is null ? default : bias.Span;

    /// <summary>
    /// Rounds <paramref name="weights"/> (row-major <c>[rows, columns]</c>) to <paramref name="format"/> (nearest even)
    /// and packs them with <paramref name="bias"/> (<c>[rows]</c>, float32) if not empty.
    /// Throws <see cref="ArgumentException"/> for a weight that is not finite or does not fit the format (|w| &gt; 65504 in fp16).
    /// </summary>
    public static PackedHalfMatrix Pack(ReadOnlySpan<float> weights, int rows, int columns, WeightFormat format, ReadOnlySpan<float> bias = default)
    {
        CheckShape(weights.Length, rows, columns, format, bias, nameof(weights));
        AlignedArray<ushort> packed = Allocate(rows, columns);
        Span<ushort> dst = packed.Span;
        for (int n = 0; n < rows; n++)
        {
            for (int k = 0; k < columns; k++)
            {
                float w = weights[(n * columns) + k];
                ushort bits = HalfBits.FromSingle(w, format);
                if (!float.IsFinite(w) || HalfBits.IsNonFinite(bits, format))
                {
                    throw new ArgumentException($"weights[{n}, {k}] is {w}; {format} weights must be finite and within the format's range.", nameof(weights));
                }
                dst[Index(n, k, columns)] = bits;
            }
        }
        return new PackedHalfMatrix(rows, columns, format, packed, PackBias(bias, rows));
    }

    /// <summary>
    /// Packs weights already in <paramref name="format"/> (row-major <c>[rows, columns]</c> bit patterns, as saved by
    /// <see cref="CopyBits"/>) and <paramref name="bias"/> if not empty. Throws <see cref="ArgumentException"/> for an
    /// infinity or NaN.
    /// </summary>
    public static PackedHalfMatrix FromBits(ReadOnlySpan<ushort> bits, int rows, int columns, WeightFormat format, ReadOnlySpan<float> bias = default)
    {
        CheckShape(bits.Length, rows, columns, format, bias, nameof(bits));
        AlignedArray<ushort> packed = Allocate(rows, columns);
        Span<ushort> dst = packed.Span;
        for (int n = 0; n < rows; n++)
        {
            for (int k = 0; k < columns; k++)
            {
                ushort b = bits[(n * columns) + k];
                if (HalfBits.IsNonFinite(b, format))
                {
                    throw new ArgumentException($"bits[{n}, {k}] is 0x{b:X4}, not a finite {format} value.", nameof(bits));
                }
                dst[Index(n, k, columns)] = b;
            }
        }
        return new PackedHalfMatrix(rows, columns, format, packed, PackBias(bias, rows));
    }

    /// <summary>Copies the weights' bit patterns out, row-major <c>[Rows, Columns]</c> (for saving).</summary>
    public void CopyBits(Span<ushort> destination)
    {
        QuantCheck.Length<ushort>(destination, (long)Rows * Columns, nameof(destination), Rows, Columns);
        ReadOnlySpan<ushort> src = panels.Span;
        for (int n = 0; n < Rows; n++)
        {
            for (int k = 0; k < Columns; k++)
            {
                destination[(n * Columns) + k] = src[Index(n, k, Columns)];
            }
        }
    }

    /// <summary>The weights widened back to float32, row-major <c>[Rows, Columns]</c> (exact: every 16-bit value is a float).</summary>
    public void CopyWeightsTo(Span<float> destination)
    {
        QuantCheck.Length<float>(destination, (long)Rows * Columns, nameof(destination), Rows, Columns);
        ReadOnlySpan<ushort> src = panels.Span;
        for (int n = 0; n < Rows; n++)
        {
            for (int k = 0; k < Columns; k++)
            {
                destination[(n * Columns) + k] = HalfBits.ToSingle(src[Index(n, k, Columns)], Format);
            }
        }
    }

    private static int Index(int n, int k, int columns) =>
        ((((n / PanelLayout.PanelWidth) * columns) + k) * PanelLayout.PanelWidth) + (n % PanelLayout.PanelWidth);

    private static void CheckShape(int length, int rows, int columns, WeightFormat format, ReadOnlySpan<float> bias, string name)
    {
        QuantCheck.Format(format, nameof(format));
        Check.NonNegative(rows, nameof(rows));
        Check.NonNegative(columns, nameof(columns));
        if (length != (long)rows * columns)
        {
            throw new ArgumentException($"{name} has length {length}; expected {(long)rows * columns} for shape [{rows}, {columns}].", name);
        }
        if (!bias.IsEmpty)
        {
            Check.Length(bias, rows, nameof(bias), rows);
        }
    }

    private static AlignedArray<ushort> Allocate(int rows, int columns)
    {
        var packed = new AlignedArray<ushort>(PanelLayout.PackedLength(columns, rows));
        packed.Span.Clear();
        return packed;
    }

    private static AlignedArray<float>? PackBias(ReadOnlySpan<float> bias, int rows)
    {
        if (bias.IsEmpty)
        {
            return null;
        }
        var padded = new AlignedArray<float>(PanelLayout.PaddedColumns(rows));
        padded.Span.Clear();
        bias.CopyTo(padded.Span);
        return padded;
    }
}
