using Lstm.Simd.GemmKernels;

namespace Lstm.Simd;

/// <summary>
/// A weight matrix W[N×K] (such as PyTorch's <c>weight_ih</c> <c>[4H, I]</c>) and an optional bias[N], packed once
/// into the panel layout the GEMM kernels read. Safe to share between threads; only <see cref="Repack"/> changes it.
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

    /// <summary>
    /// Packs new values of the same shape into this matrix's own buffers (the forward panels, the bias and, if they were
    /// packed, the backward panels), allocating nothing: a training step's weight update. A GEMM reading this matrix on
    /// another thread meanwhile would see a mix of old and new weights, so the owner must not repack during a run.
    /// <paramref name="bias"/> must be given exactly when the matrix was packed with one.
    /// </summary>
    public void Repack(ReadOnlySpan<float> weights, ReadOnlySpan<float> bias = default)
    {
        Check.Length(weights, (long)Rows * Columns, nameof(weights), Rows, Columns);
        if (HasBias)
        {
            Check.Length(bias, Rows, nameof(bias), Rows);
        }
        else if (!bias.IsEmpty)
        {
            throw new ArgumentException($"bias: this matrix was packed without a bias, so none can be repacked; {bias.Length} values given.", nameof(bias));
        }
        PanelLayout.Pack(weights, Columns, Rows, 1, Columns, forward.Span);
        bias.CopyTo(this.bias is null ? default : this.bias.Span); // the padding beyond Rows stays 0 from Pack
        if (Volatile.Read(ref backward) is { } transposed)
        {
            PanelLayout.Pack(weights, Rows, Columns, Columns, 1, transposed.Span);
        }
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
