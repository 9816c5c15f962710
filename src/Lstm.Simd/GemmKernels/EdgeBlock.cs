using System.Runtime.CompilerServices;

namespace Lstm.Simd.GemmKernels;

/// <summary>
/// The zero-padded copy of C that a GEMM driver's edge block (fewer valid columns than the tile writes) runs on, so
/// the tiles never mask: rows of <see cref="Width"/> floats. Shared by the float32 and the 16-bit drivers.
/// </summary>
internal static class EdgeBlock
{
    /// <summary>The row stride of the edge buffer: the widest column block a tile writes.</summary>
    public const int Width = 2 * PanelLayout.GroupWidth;

    /// <summary>Clears <paramref name="edge"/> and, when the tile accumulates, copies the valid part of C into it.</summary>
    public static void Load(Span<float> edge, int rows, int validCols, ref float c, nint ldc, GemmInit init)
    {
        edge.Clear();
        if (init != GemmInit.Accumulate)
        {
            return;
        }
        for (int r = 0; r < rows; r++)
        {
            for (int j = 0; j < validCols; j++)
            {
                edge[(r * Width) + j] = Unsafe.Add(ref c, (r * ldc) + j);
            }
        }
    }

    /// <summary>Copies the valid part of the edge buffer back to C.</summary>
    public static void Store(ReadOnlySpan<float> edge, int rows, int validCols, ref float c, nint ldc)
    {
        for (int r = 0; r < rows; r++)
        {
            for (int j = 0; j < validCols; j++)
            {
                Unsafe.Add(ref c, (r * ldc) + j) = edge[(r * Width) + j];
            }
        }
    }
}
