namespace Lstm.Core;

/// <summary>
/// Thrown, when <see cref="RecurrentNetwork.CheckFinite"/> is on, at the first NaN or infinity a forward pass or a
/// streaming step reads or makes. Says where: which tensor, layer, direction, time step, batch row and unit.
/// </summary>
public sealed class NonFiniteValueException : ArithmeticException
{
    public NonFiniteValueException(string tensor, int layer, int direction, int step, int batchRow, int unit, float value)
        : base($"{tensor} is {value} at layer {layer}, direction {direction}, step {step}, batch row {batchRow}, unit {unit}.")
    {
        Tensor = tensor;
        Layer = layer;
        Direction = direction;
        Step = step;
        BatchRow = batchRow;
        Unit = unit;
        Value = value;
    }

    /// <summary>"x" (the input), "h0", "c0", "h" or "c".</summary>
    public string Tensor { get; }

    public int Layer { get; }

    public int Direction { get; }

    /// <summary>The time step t (for a stream, the step count since the state was created or reset); -1 for h0 and c0.</summary>
    public int Step { get; }

    public int BatchRow { get; }

    /// <summary>The feature (for x) or hidden unit (for h and c).</summary>
    public int Unit { get; }

    public float Value { get; }
}

/// <summary>
/// Where the opt-in finite check looks: rows of a [rows, width] matrix with row stride ld. <paramref name="RowOrder"/>
/// names the caller's row of each (a batch sorted by length); null: the rows are the caller's.
/// </summary>
internal readonly record struct FiniteProbe(string Tensor, int Layer, int Direction, int Step, int[]? RowOrder = null)
{
    public void Rows(ReadOnlySpan<float> m, int rows, int width, int ld)
    {
        for (int b = 0; b < rows; b++)
        {
            ReadOnlySpan<float> row = m.Slice(b * ld, width);
            for (int u = 0; u < row.Length; u++)
            {
                if (!float.IsFinite(row[u]))
                {
                    throw new NonFiniteValueException(Tensor, Layer, Direction, Step, RowOrder is null ? b : RowOrder[b], u, row[u]);
                }
            }
        }
    }
}
