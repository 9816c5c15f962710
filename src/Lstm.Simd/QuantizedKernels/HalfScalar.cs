using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Lstm.Simd.GemmKernels;

namespace Lstm.Simd.QuantizedKernels;

/// <summary>The scalar twin of the 16-bit tiles: per output the same FMA chain over k in the same order.</summary>
internal static class HalfScalar
{
    public static void Run(ReadOnlySpan<float> a, int m, int lda, PackedHalfMatrix w, Span<float> c, int ldc, GemmInit init)
    {
        int n = w.Rows, k = w.Columns;
        nint panelStride = (nint)k * PanelLayout.PanelWidth;
        ref float a0 = ref MemoryMarshal.GetReference(a);
        ref float c0 = ref MemoryMarshal.GetReference(c);
        ref ushort panels = ref MemoryMarshal.GetReference(w.Panels);
        ref float bias = ref MemoryMarshal.GetReference(w.PaddedBias);
        for (int i = 0; i < m; i++)
        {
            ref float ai = ref Unsafe.Add(ref a0, (nint)i * lda);
            for (int j = 0; j < n; j++)
            {
                ref ushort wj = ref Unsafe.Add(ref panels, ((j / PanelLayout.PanelWidth) * panelStride) + (j % PanelLayout.PanelWidth));
                ref float cij = ref Unsafe.Add(ref c0, ((nint)i * ldc) + j);
                float acc = init switch
                {
                    GemmInit.Accumulate => cij,
                    GemmInit.Bias => Unsafe.Add(ref bias, j),
                    _ => 0f,
                };
                for (int kk = 0; kk < k; kk++)
                {
                    acc = MathF.FusedMultiplyAdd(Unsafe.Add(ref ai, kk), HalfBits.ToSingle(Unsafe.Add(ref wj, (nint)kk * PanelLayout.PanelWidth), w.Format), acc);
                }
                cij = acc;
            }
        }
    }
}
