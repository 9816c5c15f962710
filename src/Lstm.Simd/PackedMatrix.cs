using Lstm.Simd.GemmKernels;

namespace Lstm.Simd;

/// <summary>
/// A weight matrix W[N×K] (such as PyTorch's <c>weight_ih</c> <c>[4H, I]</c>) and an optional bias[N], packed once
/// into the panel layout the GEMM kernels read. Immutable after packing; safe to share between threads.
/// </summary>
public sealed class PackedMatrix
{
    private readonly AlignedBuffer forward;
    private readonly AlignedBuffer? bias;
    private AlignedBuffer? backward;

    private PackedMatrix(int rows, int columns, AlignedBuffer forward, AlignedBuffer? bias, AlignedBuffer? backward)
    {
        Rows = rows;
        Columns = columns;
        this.forward = forward;
        this.bias = bias;
        this.backward = backward;
    }

    /// <summary>N: the number of outputs (rows of W).</summary>
    public int Rows { get; }

    /// <summary>K: the number of inputs (columns of W).</summary>
    public int Columns { get; }

    /// <summary>Whether a bias was packed with the weights.</summary>
    public bool HasBias => bias is not null;

    internal ReadOnlySpan<float> ForwardPanels => forward.Span;

    internal ReadOnlySpan<float> PaddedBias => bias is null ? default : bias.Span;

    /// <summary>W in panels over K (Q = N), for dA = dC·W; packed on first use by a backward pass, then kept.</summary>
    internal ReadOnlySpan<float> BackwardPanels => (backward ?? PackBackward()).Span;

    /// <summary>
    /// Packs <paramref name="weights"/> (row-major <c>[rows, columns]</c>) and, if not empty, <paramref name="bias"/>
    /// (<c>[rows]</c>). Set <paramref name="forBackward"/> to also pack the transposed panels that
    /// <see cref="Gemm.MultiplyByWeights(ReadOnlySpan{float}, int, PackedMatrix, Span{float}, bool, SimdPath?)"/> reads
    /// (otherwise they are packed on its first call).
    /// </summary>
    public static PackedMatrix Pack(ReadOnlySpan<float> weights, int rows, int columns, ReadOnlySpan<float> bias = default, bool forBackward = false)
    {
        Check.NonNegative(rows, nameof(rows));
        Check.NonNegative(columns, nameof(columns));
        Check.Length(weights, (long)rows * columns, nameof(weights), rows, columns);
        if (!bias.IsEmpty)
        {
            Check.Length(bias, rows, nameof(bias), rows);
        }

        // Forward: B[k, n] = W[n, k]; Q = K, P = N.
        var forward = new AlignedBuffer(PanelLayout.PackedLength(columns, rows));
        PanelLayout.Pack(weights, columns, rows, 1, columns, forward.Span);
        AlignedBuffer? packedBias = null;
        if (!bias.IsEmpty)
        {
            packedBias = new AlignedBuffer(PanelLayout.PaddedColumns(rows));
            packedBias.Span.Clear();
            bias.CopyTo(packedBias.Span);
        }
        AlignedBuffer? backward = forBackward ? PackTransposed(weights, rows, columns) : null;
        return new PackedMatrix(rows, columns, forward, packedBias, backward);
    }

    /// <summary>Unpacks W back to row-major <c>[Rows, Columns]</c>.</summary>
    public void CopyWeightsTo(Span<float> destination)
    {
        Check.Length(destination, (long)Rows * Columns, nameof(destination), Rows, Columns);
        ReadOnlySpan<float> panels = forward.Span;
        for (int n = 0; n < Rows; n++)
        {
            int panel = n / PanelLayout.PanelWidth, j = n % PanelLayout.PanelWidth;
            for (int k = 0; k < Columns; k++)
            {
                destination[(n * Columns) + k] = panels[(((panel * Columns) + k) * PanelLayout.PanelWidth) + j];
            }
        }
    }

    private AlignedBuffer PackBackward()
    {
        var weights = new float[(long)Rows * Columns];
        CopyWeightsTo(weights);
        AlignedBuffer packed = PackTransposed(weights, Rows, Columns);
        return Interlocked.CompareExchange(ref backward, packed, null) ?? packed;
    }

    // Backward: B[n, k] = W[n, k]; Q = N, P = K.
    private static AlignedBuffer PackTransposed(ReadOnlySpan<float> weights, int rows, int columns)
    {
        var packed = new AlignedBuffer(PanelLayout.PackedLength(rows, columns));
        PanelLayout.Pack(weights, rows, columns, columns, 1, packed.Span);
        return packed;
    }
}
