using System.Runtime.CompilerServices;

namespace Lstm.Simd.GemmKernels;

/// <summary>The scalar twin of the tiles: per output, the same FMA chain over k in the same order.</summary>
internal static class MicroKernelScalar
{
    public static void Tile(int rows, int cols, ref float a, nint rsA, nint csA, int q, ref float b, nint panelStride, ref float c, nint ldc, GemmInit init, ref float bias)
    {
        for (int r = 0; r < rows; r++)
        {
            ref float ar = ref Unsafe.Add(ref a, r * rsA);
            for (int j = 0; j < cols; j++)
            {
                ref float bj = ref Unsafe.Add(ref b, ((j / PanelLayout.PanelWidth) * panelStride) + (j % PanelLayout.PanelWidth));
                ref float cij = ref Unsafe.Add(ref c, (r * ldc) + j);
                float acc = init switch
                {
                    GemmInit.Accumulate => cij,
                    GemmInit.Bias => Unsafe.Add(ref bias, j),
                    _ => 0f,
                };
                for (int k = 0; k < q; k++)
                {
                    acc = MathF.FusedMultiplyAdd(Unsafe.Add(ref ar, k * csA), Unsafe.Add(ref bj, k * PanelLayout.PanelWidth), acc);
                }
                cij = acc;
            }
        }
    }
}
