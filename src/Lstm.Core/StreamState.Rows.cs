namespace Lstm.Core;

/// <summary>
/// Setting and reading a stream's state: h and c of every layer, for all rows or one row (one session), so a stream
/// can start from PyTorch's h0/c0 or a sequence's hn/cn, and one row can be reset while the others go on.
/// </summary>
public sealed partial class StreamState
{
    /// <summary>
    /// Sets h and c of every layer for all rows from PyTorch's <c>h0</c> and <c>c0</c> <c>[L, B, H]</c> (the layout
    /// <see cref="RecurrentNetwork.Forward(ReadOnlySpan{float}, int, int, ReadOnlySpan{float}, ReadOnlySpan{float})"/>
    /// takes and returns as hn/cn), so stepping goes on exactly where a sequence ended. Empty spans mean zeros; an RNN
    /// takes no <paramref name="c0"/>. The step count is kept.
    /// </summary>
    public void SetState(ReadOnlySpan<float> h0, ReadOnlySpan<float> c0)
    {
        int l = Options.Layers, b = Batch, h = Options.HiddenStateSize, hc = Options.HiddenSize; // h is P wide with projections
        CheckState(h0, nameof(h0), l, b, h, allowEmpty: true);
        CheckState(c0, nameof(c0), l, b, hc, allowEmpty: true, isCell: true);
        for (int layer = 0; layer < l; layer++)
        {
            for (int row = 0; row < b; row++)
            {
                int at = ((layer * b) + row) * h, atC = ((layer * b) + row) * hc;
                WriteRow(layer, row, h0.IsEmpty ? default : h0.Slice(at, h), c0.IsEmpty ? default : c0.Slice(atC, hc));
            }
        }
    }

    /// <summary>
    /// Copies h and c of every layer for all rows into <paramref name="h"/> and <paramref name="c"/> <c>[L, B, H]</c>
    /// (<paramref name="c"/> empty for an RNN): the state <see cref="SetState"/> takes.
    /// </summary>
    public void GetState(Span<float> h, Span<float> c)
    {
        int l = Options.Layers, b = Batch, hs = Options.HiddenStateSize, hc = Options.HiddenSize;
        CheckState(h, nameof(h), l, b, hs, allowEmpty: false);
        CheckState(c, nameof(c), l, b, hc, allowEmpty: false, isCell: true);
        for (int layer = 0; layer < l; layer++)
        {
            for (int row = 0; row < b; row++)
            {
                int at = ((layer * b) + row) * hs, atC = ((layer * b) + row) * hc;
                ReadRow(layer, row, h.Slice(at, hs), c.IsEmpty ? default : c.Slice(atC, hc));
            }
        }
    }

    /// <summary>
    /// Sets one row's h and c of every layer, each <c>[L, H]</c> (empty: zeros; <paramref name="c"/> empty for an RNN).
    /// The other rows are untouched: a service gives one session a new or restored state between steps.
    /// </summary>
    public void SetRow(int row, ReadOnlySpan<float> h, ReadOnlySpan<float> c)
    {
        CheckRow(row);
        int l = Options.Layers, hs = Options.HiddenStateSize, hc = Options.HiddenSize;
        CheckState(h, nameof(h), l, 1, hs, allowEmpty: true);
        CheckState(c, nameof(c), l, 1, hc, allowEmpty: true, isCell: true);
        for (int layer = 0; layer < l; layer++)
        {
            WriteRow(layer, row, h.IsEmpty ? default : h.Slice(layer * hs, hs), c.IsEmpty ? default : c.Slice(layer * hc, hc));
        }
    }

    /// <summary>Copies one row's h and c of every layer into <paramref name="h"/> and <paramref name="c"/>, each <c>[L, H]</c>.</summary>
    public void GetRow(int row, Span<float> h, Span<float> c)
    {
        CheckRow(row);
        int l = Options.Layers, hs = Options.HiddenStateSize, hc = Options.HiddenSize;
        CheckState(h, nameof(h), l, 1, hs, allowEmpty: false);
        CheckState(c, nameof(c), l, 1, hc, allowEmpty: false, isCell: true);
        for (int layer = 0; layer < l; layer++)
        {
            ReadRow(layer, row, h.Slice(layer * hs, hs), c.IsEmpty ? default : c.Slice(layer * hc, hc));
        }
    }

    /// <summary>Sets one row's h and c of every layer to 0; the other rows go on as they were.</summary>
    public void ResetRow(int row) => SetRow(row, default, default);

    /// <summary>Exchanges the whole state of rows <paramref name="a"/> and <paramref name="b"/> (a stream on the calling thread only).</summary>
    internal void SwapRows(int a, int b)
    {
        int hs = Options.HiddenStateSize, hc = Options.HiddenSize;
        for (int layer = 0; layer < Options.Layers; layer++)
        {
            SwapSpans(H[layer].AsSpan(a * hs, hs), H[layer].AsSpan(b * hs, hs));
            if (C[layer].Length != 0)
            {
                int half = Current[layer] * Batch * hc;
                SwapSpans(C[layer].AsSpan(half + (a * hc), hc), C[layer].AsSpan(half + (b * hc), hc));
            }
        }
    }

    private static void SwapSpans(Span<float> a, Span<float> b)
    {
        for (int i = 0; i < a.Length; i++)
        {
            (a[i], b[i]) = (b[i], a[i]);
        }
    }

    // One row of one layer: h and c (c_{t-1} for the next step) where the next step reads them. Empty: zeros.
    private void WriteRow(int layer, int row, ReadOnlySpan<float> h, ReadOnlySpan<float> c)
    {
        int hs = Options.HiddenStateSize, hc = Options.HiddenSize;
        if (Split is { } split)
        {
            split.WriteRow(layer, row, h, c);
            return;
        }
        Fill(H[layer].AsSpan(row * hs, hs), h);
        if (C[layer].Length != 0)
        {
            Fill(C[layer].AsSpan((Current[layer] * Batch * hc) + (row * hc), hc), c);
        }
    }

    private void ReadRow(int layer, int row, Span<float> h, Span<float> c)
    {
        int hs = Options.HiddenStateSize, hc = Options.HiddenSize;
        Hidden(layer).Slice(row * hs, hs).CopyTo(h);
        if (!c.IsEmpty)
        {
            Cell(layer).Slice(row * hc, hc).CopyTo(c);
        }
    }

    internal static void Fill(Span<float> destination, ReadOnlySpan<float> source)
    {
        if (source.IsEmpty)
        {
            destination.Clear();
        }
        else
        {
            source.CopyTo(destination);
        }
    }

    private void CheckRow(int row)
    {
        if ((uint)row >= (uint)Batch)
        {
            throw new ArgumentOutOfRangeException(nameof(row), row, $"row must be in [0, {Batch}): the stream has {Batch} rows.");
        }
    }

    private void CheckState(ReadOnlySpan<float> values, string name, int layers, int rows, int hidden, bool allowEmpty, bool isCell = false)
    {
        bool lstm = Options.Cell == CellKind.Lstm;
        if (isCell && !lstm)
        {
            if (!values.IsEmpty)
            {
                throw new ArgumentException($"{name}: an RNN has no cell state; pass an empty span (got {values.Length} values).", name);
            }
            return;
        }
        if (values.IsEmpty && allowEmpty)
        {
            return;
        }
        if (values.Length != layers * rows * hidden)
        {
            ShapeCheck.Exact(values, name, layers, rows, hidden);
        }
    }
}
