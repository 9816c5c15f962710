using System.Runtime.CompilerServices;

namespace Lstm.Simd.QuantizedKernels;

/// <summary>The scalar twin of the int8 tiles: exact int32 sums Σ_k qa[r, k] · qw[j, k] over the packed layout.</summary>
internal static class Int8KernelScalar
{
    /// <summary>acc[r · 64 + j] for <paramref name="rows"/> rows of qa (stride <paramref name="lda"/>) and the 64 rows of one group.</summary>
    public static void Tile(int rows, ref sbyte qa, nint lda, int kGroups, ref sbyte w, nint panelStride, Span<int> acc)
    {
        for (int r = 0; r < rows; r++)
        {
            ref sbyte ar = ref Unsafe.Add(ref qa, r * lda);
            for (int j = 0; j < Int8Layout.GroupWidth; j++)
            {
                ref sbyte wj = ref Unsafe.Add(ref w, ((j / Int8Layout.PanelWidth) * panelStride) + ((j % Int8Layout.PanelWidth) * Int8Layout.KGroup));
                int sum = 0;
                for (int g = 0; g < kGroups; g++)
                {
                    for (int b = 0; b < Int8Layout.KGroup; b++)
                    {
                        sum += Unsafe.Add(ref ar, (g * Int8Layout.KGroup) + b) * Unsafe.Add(ref wj, (g * Int8Layout.PanelWidth * Int8Layout.KGroup) + b);
                    }
                }
                acc[(r * Int8Layout.GroupWidth) + j] = sum;
            }
        }
    }

    /// <summary>c[r, j] = fma((float)acc, aScale[r] · wScale[j], bias[j] or c[r, j] or 0), for j &lt; <paramref name="cols"/>.</summary>
    public static void Epilogue(int rows, int cols, ReadOnlySpan<int> acc, ReadOnlySpan<float> aScales, ref float wScales, ref float bias, bool useBias, ref float c, nint ldc, bool accumulate)
    {
        for (int r = 0; r < rows; r++)
        {
            for (int j = 0; j < cols; j++)
            {
                ref float cij = ref Unsafe.Add(ref c, (r * ldc) + j);
                float init = accumulate ? cij : useBias ? Unsafe.Add(ref bias, j) : 0f;
                cij = MathF.FusedMultiplyAdd(acc[(r * Int8Layout.GroupWidth) + j], aScales[r] * Unsafe.Add(ref wScales, j), init);
            }
        }
    }
}
