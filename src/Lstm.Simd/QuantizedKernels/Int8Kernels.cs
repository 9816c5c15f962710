namespace Lstm.Simd.QuantizedKernels;

/// <summary>The int8 integer tiles: one scalar twin and the vector variants this CPU may run.</summary>
internal enum Int8Kernel
{
    Scalar = 0,
}

/// <summary>Which int8 tile runs for a <see cref="SimdPath"/>, and the dispatch to it.</summary>
internal static class Int8Kernels
{
    /// <summary>Every variant this CPU can run, so tests can force each one.</summary>
    public static IReadOnlyList<Int8Kernel> Available { get; } = [Int8Kernel.Scalar];

    public static Int8Kernel For(SimdPath path) => path switch
    {
        _ => Int8Kernel.Scalar,
    };

    public static void Tile(Int8Kernel kernel, int rows, ref sbyte qa, nint lda, int kGroups, ref sbyte w, nint panelStride, ref int rowSums, Span<int> acc)
    {
        _ = kernel;
        _ = rowSums;
        Int8KernelScalar.Tile(rows, ref qa, lda, kGroups, ref w, panelStride, acc);
    }

    public static void Epilogue(Int8Kernel kernel, int rows, int cols, ReadOnlySpan<int> acc, ReadOnlySpan<float> aScales, ref float wScales, ref float bias, bool useBias, ref float c, nint ldc, bool accumulate)
    {
        _ = kernel;
        Int8KernelScalar.Epilogue(rows, cols, acc, aScales, ref wScales, ref bias, useBias, ref c, ldc, accumulate);
    }
}
