using System.Runtime.InteropServices;

namespace Lstm.Simd.GemmKernels;

/// <summary>
/// The packed operand of every GEMM here: B[Q×P] cut into panels of 16 columns, each panel Q rows of 16 floats
/// (row q of a panel is one 64-byte line), the column count padded with zeros to a multiple of 64 so that every
/// micro-kernel reads whole groups of 4 panels.
/// </summary>
internal static class PanelLayout
{
    public const int PanelWidth = 16;
    public const int GroupWidth = 64;
    public const int Alignment = 64;

    public static int PaddedColumns(int p) => checked((p + GroupWidth - 1) / GroupWidth * GroupWidth);

    public static long PackedLength(int q, int p) => (long)PaddedColumns(p) * q;

    /// <summary>Writes B[qq, pp] = source[qq·strideQ + pp·strideP] into panels, zeros in the padding.</summary>
    public static void Pack(ReadOnlySpan<float> source, int q, int p, int strideQ, int strideP, Span<float> panels)
    {
        int padded = PaddedColumns(p);
        ref float dst = ref MemoryMarshal.GetReference(panels);
        for (int panel = 0; panel < padded / PanelWidth; panel++)
        {
            int col0 = panel * PanelWidth;
            int valid = Math.Clamp(p - col0, 0, PanelWidth);
            nint baseOffset = (nint)panel * q * PanelWidth;
            for (int qq = 0; qq < q; qq++)
            {
                nint row = baseOffset + ((nint)qq * PanelWidth);
                int j = 0;
                for (; j < valid; j++)
                {
                    System.Runtime.CompilerServices.Unsafe.Add(ref dst, row + j) = source[(qq * strideQ) + ((col0 + j) * strideP)];
                }
                for (; j < PanelWidth; j++)
                {
                    System.Runtime.CompilerServices.Unsafe.Add(ref dst, row + j) = 0f;
                }
            }
        }
    }
}
