using Lstm.Simd.QuantizedKernels;

namespace Lstm.Simd;

/// <summary>
/// A weight matrix W[N×K] in int8, symmetric per output row (<c>w ≈ q · scale[row]</c>, q in [−127, 127]), with an
/// optional float32 bias[N], packed once for <see cref="QuantizedGemm"/> (layout: <c>Int8Layout</c>; each row's
/// sum of q is kept for the kernels that quantize activations as unsigned). K is at most <see cref="MaxColumns"/>,
/// so int32 dot products cannot overflow. Immutable after packing; safe to share between threads.
/// </summary>
public sealed class PackedInt8Matrix
{
    /// <summary>The largest K: 127 · 127 · K must fit in an int32 (2^31 − 1), so every dot product is exact.</summary>
    public const int MaxColumns = Int8Layout.MaxColumns;

    private readonly AlignedArray<sbyte> panels;
    private readonly AlignedArray<float> scales;
    private readonly AlignedArray<int> rowSums;
    private readonly AlignedArray<float>? bias;

    private PackedInt8Matrix(int rows, int columns, AlignedArray<sbyte> panels, AlignedArray<float> scales, AlignedArray<int> rowSums, AlignedArray<float>? bias)
    {
        Rows = rows;
        Columns = columns;
        this.panels = panels;
        this.scales = scales;
        this.rowSums = rowSums;
        this.bias = bias;
    }

    /// <summary>N: the number of outputs (rows of W).</summary>
    public int Rows { get; }

    /// <summary>K: the number of inputs (columns of W).</summary>
    public int Columns { get; }

    /// <summary>Whether a bias was packed with the weights.</summary>
    public bool HasBias => bias is not null;

    internal ReadOnlySpan<sbyte> Panels => panels.Span;

    /// <summary>scale[row], zero-padded to a multiple of 64 rows.</summary>
    internal ReadOnlySpan<float> PaddedScales => scales.Span;

    /// <summary>Σ_k q[row, k], zero-padded to a multiple of 64 rows.</summary>
    internal ReadOnlySpan<int> PaddedRowSums => rowSums.Span;

    internal ReadOnlySpan<float> PaddedBias => bias is null ? default : bias.Span;

    /// <summary>
    /// Quantizes <paramref name="weights"/> (row-major <c>[rows, columns]</c>, finite) per row: scale = max|w_row| / 127,
    /// q = w / scale rounded to nearest even (so |w − q·scale| ≤ scale/2); a zero row has scale 0. Packs
    /// <paramref name="bias"/> (<c>[rows]</c>, float32) too if not empty.
    /// </summary>
    public static PackedInt8Matrix Quantize(ReadOnlySpan<float> weights, int rows, int columns, ReadOnlySpan<float> bias = default)
    {
        CheckShape(weights.Length, rows, columns, bias, nameof(weights));
        var q = new sbyte[(long)rows * columns];
        var rowScales = new float[rows];
        for (int n = 0; n < rows; n++)
        {
            ReadOnlySpan<float> row = weights.Slice(n * columns, columns);
            float maxAbs = 0f;
            for (int k = 0; k < columns; k++)
            {
                if (!float.IsFinite(row[k]))
                {
                    throw new ArgumentException($"weights[{n}, {k}] is {row[k]}; int8 quantization needs finite weights.", nameof(weights));
                }
                maxAbs = Math.Max(maxAbs, Math.Abs(row[k]));
            }
            float scale = maxAbs / 127f;
            rowScales[n] = scale;
            for (int k = 0; k < columns; k++)
            {
                // In double so the quotient's own rounding cannot push a value across a rounding boundary;
                // the clamp catches max|w| / fl(max|w| / 127) landing a hair above 127.
                double ratio = scale == 0f ? 0.0 : row[k] / (double)scale;
                q[(n * columns) + k] = (sbyte)Math.Clamp(Math.Round(ratio, MidpointRounding.ToEven), -127.0, 127.0);
            }
        }
        return Build(q, rowScales, rows, columns, bias);
    }

    /// <summary>
    /// Packs already-quantized weights <paramref name="q"/> (row-major <c>[rows, columns]</c>, each in [−127, 127]) with
    /// their per-row <paramref name="rowScales"/> (<c>[rows]</c>, finite, ≥ 0) and <paramref name="bias"/> if not empty.
    /// </summary>
    public static PackedInt8Matrix FromQuantized(ReadOnlySpan<sbyte> q, ReadOnlySpan<float> rowScales, int rows, int columns, ReadOnlySpan<float> bias = default)
    {
        CheckShape(q.Length, rows, columns, bias, nameof(q));
        QuantCheck.Length(rowScales, rows, nameof(rowScales), rows);
        for (int n = 0; n < rows; n++)
        {
            if (!float.IsFinite(rowScales[n]) || rowScales[n] < 0f)
            {
                throw new ArgumentException($"rowScales[{n}] is {rowScales[n]}; expected a finite value ≥ 0.", nameof(rowScales));
            }
        }
        for (int i = 0; i < q.Length; i++)
        {
            if (q[i] == sbyte.MinValue)
            {
                throw new ArgumentException($"q[{i / columns}, {i % columns}] is -128; expected a value in [-127, 127] (symmetric quantization).", nameof(q));
            }
        }
        return Build(q, rowScales, rows, columns, bias);
    }

    /// <summary>Copies out the quantized weights (row-major <c>[Rows, Columns]</c>) and the per-row scales (<c>[Rows]</c>), for saving.</summary>
    public void CopyQuantized(Span<sbyte> q, Span<float> rowScales)
    {
        QuantCheck.Length<sbyte>(q, (long)Rows * Columns, nameof(q), Rows, Columns);
        QuantCheck.Length<float>(rowScales, Rows, nameof(rowScales), Rows);
        ReadOnlySpan<sbyte> src = panels.Span;
        for (int n = 0; n < Rows; n++)
        {
            for (int k = 0; k < Columns; k++)
            {
                q[(n * Columns) + k] = src[(int)Int8Layout.Index(n, k, Columns)];
            }
        }
        scales.Span[..Rows].CopyTo(rowScales);
    }

    private static void CheckShape(int length, int rows, int columns, ReadOnlySpan<float> bias, string name)
    {
        Check.NonNegative(rows, nameof(rows));
        Check.NonNegative(columns, nameof(columns));
        if (columns > MaxColumns)
        {
            throw new ArgumentOutOfRangeException(nameof(columns), columns, $"columns is {columns}; int8 weights allow at most {MaxColumns} (127 · 127 · K must fit an int32 so the dot products stay exact).");
        }
        if (length != (long)rows * columns)
        {
            throw new ArgumentException($"{name} has length {length}; expected {(long)rows * columns} for shape [{rows}, {columns}].", name);
        }
        if (!bias.IsEmpty)
        {
            Check.Length(bias, rows, nameof(bias), rows);
        }
    }

    private static PackedInt8Matrix Build(ReadOnlySpan<sbyte> q, ReadOnlySpan<float> rowScales, int rows, int columns, ReadOnlySpan<float> bias)
    {
        int paddedRows = Int8Layout.PaddedRows(rows);
        var panels = new AlignedArray<sbyte>((long)paddedRows * Int8Layout.PaddedK(columns));
        var scales = new AlignedArray<float>(paddedRows);
        var sums = new AlignedArray<int>(paddedRows);
        panels.Span.Clear();
        scales.Span.Clear();
        sums.Span.Clear();
        Span<sbyte> dst = panels.Span;
        for (int n = 0; n < rows; n++)
        {
            int sum = 0;
            for (int k = 0; k < columns; k++)
            {
                sbyte value = q[(n * columns) + k];
                dst[(int)Int8Layout.Index(n, k, columns)] = value;
                sum += value;
            }
            sums.Span[n] = sum;
        }
        rowScales.CopyTo(scales.Span);
        AlignedArray<float>? packedBias = null;
        if (!bias.IsEmpty)
        {
            packedBias = new AlignedArray<float>(paddedRows);
            packedBias.Span.Clear();
            bias.CopyTo(packedBias.Span);
        }
        return new PackedInt8Matrix(rows, columns, panels, scales, sums, packedBias);
    }
}
