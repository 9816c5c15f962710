using System.Numerics.Tensors;
using System.Runtime.InteropServices;

namespace Lstm.Core;

/// <summary>
/// Tensor-shaped arguments at the API's edge: their lengths checked against what the network expects (errors name the
/// argument and the dimension), their elements handed to the span-based code in row-major order.
/// </summary>
internal static class TensorArguments
{
    /// <summary>Whether the caller passed a tensor at all (a defaulted optional argument has rank 0 and no elements).</summary>
    public static bool IsGiven(in ReadOnlyTensorSpan<float> t) => t.Rank > 0 || t.FlattenedLength > 0;

    /// <summary>The lengths of <paramref name="t"/>, after checking it has <paramref name="rank"/> dimensions.</summary>
    public static int[] Lengths(in ReadOnlyTensorSpan<float> t, string name, int rank, string layout)
    {
        if (t.Rank != rank)
        {
            throw new ArgumentException($"{name} must have {rank} dimensions {layout}; it has {t.Rank}: {Shape(t.Lengths)}.", name);
        }
        var lengths = new int[rank];
        for (int i = 0; i < rank; i++)
        {
            lengths[i] = checked((int)t.Lengths[i]);
        }
        return lengths;
    }

    /// <summary>Checks one dimension: "x dimension 2 (input size) is 5; expected 3".</summary>
    public static void Dimension(string name, int index, string meaning, long actual, long expected, ReadOnlySpan<nint> lengths)
    {
        if (actual != expected)
        {
            throw new ArgumentException($"{name} dimension {index} ({meaning}) is {actual}; expected {expected} (shape {Shape(lengths)}).", name);
        }
    }

    /// <summary>
    /// The elements in row-major order: the tensor's own memory when it is dense (no copy, no allocation), else a copy.
    /// </summary>
    public static ReadOnlySpan<float> RowMajor(in ReadOnlyTensorSpan<float> t)
    {
        if (t.FlattenedLength == 0)
        {
            return default;
        }
        if (IsRowMajor(t.Lengths, t.Strides))
        {
            return MemoryMarshal.CreateReadOnlySpan(in t.GetPinnableReference(), checked((int)t.FlattenedLength));
        }
        float[] copy = new float[t.FlattenedLength];
        t.FlattenTo(copy);
        return copy;
    }

    /// <summary>A writable destination: must be dense, since results are written in row-major order in place.</summary>
    public static Span<float> RowMajor(in TensorSpan<float> t, string name)
    {
        if (t.FlattenedLength == 0)
        {
            return default;
        }
        if (!IsRowMajor(t.Lengths, t.Strides))
        {
            throw new ArgumentException($"{name} must be row-major with no gaps to be written in place; its strides are {Shape(t.Strides)} for the shape {Shape(t.Lengths)}.", name);
        }
        return MemoryMarshal.CreateSpan(ref t.GetPinnableReference(), checked((int)t.FlattenedLength));
    }

    // Dense is not enough: a transposed view has no gaps but another element order. Dimensions of length 1 have any stride.
    private static bool IsRowMajor(ReadOnlySpan<nint> lengths, ReadOnlySpan<nint> strides)
    {
        nint expected = 1;
        for (int i = lengths.Length - 1; i >= 0; i--)
        {
            if (lengths[i] != 1 && strides[i] != expected)
            {
                return false;
            }
            expected *= lengths[i];
        }
        return true;
    }

    public static string Shape(ReadOnlySpan<nint> lengths)
    {
        var parts = new string[lengths.Length];
        for (int i = 0; i < lengths.Length; i++)
        {
            parts[i] = lengths[i].ToString(System.Globalization.CultureInfo.InvariantCulture);
        }
        return "[" + string.Join(", ", parts) + "]";
    }
}
