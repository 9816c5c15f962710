using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Lstm.Simd.GemmKernels;

namespace Lstm.Simd.QuantizedKernels;

/// <summary>
/// C[M×N] = init + A[M×K]·Wᵀ with W in 16-bit panels: per output one FMA chain over k in order, starting from the
/// bias, C or 0, exactly as <see cref="GemmDriver"/> does for float32 panels, so the result equals
/// <see cref="Gemm"/> on the widened weights bit for bit. Unchecked: <see cref="QuantizedGemm"/> validates.
/// </summary>
internal static class HalfDriver
{
    public static void Run(SimdPath path, ReadOnlySpan<float> a, int m, int lda, PackedHalfMatrix w, Span<float> c, int ldc, bool accumulate)
    {
        int n = w.Rows, k = w.Columns;
        if (m == 0 || n == 0)
        {
            return;
        }
        _ = path;
        GemmInit init = accumulate ? GemmInit.Accumulate : w.HasBias ? GemmInit.Bias : GemmInit.Zero;
        nint panelStride = (nint)k * PanelLayout.PanelWidth;
        ref float a0 = ref MemoryMarshal.GetReference(a);
        ref float c0 = ref MemoryMarshal.GetReference(c);
        ref ushort panels = ref MemoryMarshal.GetReference(w.Panels);
        ref float bias = ref MemoryMarshal.GetReference(w.PaddedBias);
        for (int i = 0; i < m; i++)
        {
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
                ref float ai = ref Unsafe.Add(ref a0, (nint)i * lda);
                for (int kk = 0; kk < k; kk++)
                {
                    acc = MathF.FusedMultiplyAdd(Unsafe.Add(ref ai, kk), HalfBits.ToSingle(Unsafe.Add(ref wj, (nint)kk * PanelLayout.PanelWidth), w.Format), acc);
                }
                cij = acc;
            }
        }
    }
}
