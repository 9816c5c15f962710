using Lstm.Simd.GemmKernels;

namespace Lstm.Simd.QuantizedKernels;

/// <summary>
/// The int8 weight layout: panels of 16 output rows; each panel ⌈K/4⌉ lines of 64 bytes, a line holding 4
/// consecutive k of each of its 16 rows (the operand order of <c>vpdpbusd</c>, which sums groups of 4 bytes into one
/// int32 lane). K is padded with zero weights to a multiple of 4, rows to a multiple of 64 (groups of 4 panels).
/// </summary>
internal static class Int8Layout
{
    public const int PanelWidth = PanelLayout.PanelWidth;
    public const int GroupWidth = PanelLayout.GroupWidth;
    public const int KGroup = 4;

    /// <summary>The largest K whose int32 dot products cannot overflow: 127 · 127 · K ≤ 2^31 − 1.</summary>
    public const int MaxColumns = int.MaxValue / (127 * 127);

    public static int PaddedK(int k) => (k + KGroup - 1) / KGroup * KGroup;

    public static int PaddedRows(int n) => PanelLayout.PaddedColumns(n);

    /// <summary>Bytes per panel: <c>PaddedK · 16</c>.</summary>
    public static nint PanelStride(int k) => (nint)PaddedK(k) * PanelWidth;

    public static long Index(int n, int k, int columns) =>
        ((n / PanelWidth) * PanelStride(columns)) + ((k / KGroup) * (PanelWidth * KGroup)) + ((n % PanelWidth) * KGroup) + (k % KGroup);
}
