using Lstm.Simd;
using Lstm.Simd.QuantizedKernels;

namespace Lstm.Simd.Tests;

public class QuantizedGemmTests
{
    public static TheoryData<SimdPath, int, int, int> Shapes()
    {
        var data = new TheoryData<SimdPath, int, int, int>();
        var seen = new HashSet<(SimdPath, int, int, int)>();
        foreach (SimdPath p in SimdPaths.Available)
        {
            foreach (int s in TestData.AwkwardSizes)
            {
                foreach (var (m, n, k) in new[] { (s, 33, 17), (5, s, 17), (5, 33, s) }) // M, N, K in turn
                {
                    if (seen.Add((p, m, n, k)))
                    {
                        data.Add(p, m, n, k);
                    }
                }
            }
            data.Add(p, 1, 1024, 256);  // the latency case: one sequence, one step
            data.Add(p, 64, 260, 70);
        }
        return data;
    }

    private static (float[] W, float[] Bias, float[] A) Operands(int m, int n, int k)
    {
        int seed = (m * 1000003) + (n * 1009) + k;
        return (TestData.Uniform(n * k, seed), TestData.Uniform(n, seed + 1), TestData.Uniform(m * k, seed + 2));
    }

    [Theory]
    [MemberData(nameof(Shapes))]
    public void HalfMultiply_EqualsFloatGemmOnWidenedWeightsBitwise(SimdPath path, int m, int n, int k)
    {
        var (w, bias, a) = Operands(m, n, k);
        foreach (WeightFormat format in new[] { WeightFormat.Float16, WeightFormat.BFloat16 })
        {
            PackedHalfMatrix half = PackedHalfMatrix.Pack(w, n, k, format, bias);
            var widened = new float[n * k];
            half.CopyWeightsTo(widened);
            float[] expected = new float[m * n];
            Gemm.Multiply(a, m, k, PackedMatrix.Pack(widened, n, k, bias), expected, n, SimdPath.Scalar);

            Memory<float> c = TestData.AtEndOfArray(new float[m * n]);
            QuantizedGemm.Multiply(TestData.AtEndOfArray(a).Span, m, k, half, c.Span, n, accumulate: false, path);
            TestData.AssertBitwiseEqual(expected, c.Span, $"{format} C on {path}");
        }
    }

    [Theory]
    [MemberData(nameof(Shapes))]
    public void Int8Multiply_EqualsOracleOfSameQuantizationBitwise(SimdPath path, int m, int n, int k)
    {
        var (w, bias, a) = Operands(m, n, k);
        PackedInt8Matrix q = PackedInt8Matrix.Quantize(w, n, k, bias);
        float[] expected = QuantizedOracle.Multiply(a, m, k, q, bias, null);
        Memory<float> c = TestData.AtEndOfArray(new float[m * n]);
        QuantizedGemm.Multiply(TestData.AtEndOfArray(a).Span, m, k, q, c.Span, n, accumulate: false, path);
        TestData.AssertBitwiseEqual(expected, c.Span, $"int8 C on {path}");
    }

    /// <summary>Every int8 integer tile this CPU runs (VNNI and widening included), on the awkward shapes.</summary>
    public static TheoryData<string, int, int, int> Int8KernelShapes()
    {
        var data = new TheoryData<string, int, int, int>();
        var seen = new HashSet<(Int8Kernel, int, int, int)>();
        foreach (Int8Kernel kernel in Int8Kernels.Available)
        {
            foreach (int s in TestData.AwkwardSizes)
            {
                foreach (var (m, n, k) in new[] { (s, 33, 17), (5, s, 17), (5, 33, s), (s, 70, 129) })
                {
                    if (seen.Add((kernel, m, n, k)))
                    {
                        data.Add(kernel.ToString(), m, n, k);
                    }
                }
            }
            data.Add(kernel.ToString(), 1, 1024, 256);
            data.Add(kernel.ToString(), 64, 260, 70);
            data.Add(kernel.ToString(), 67, 130, 1031); // more rows than one quantization chunk; K beyond the stack scratch
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(Int8KernelShapes))]
    public void Int8Kernel_EqualsOracleOfSameQuantizationBitwise(string kernelName, int m, int n, int k)
    {
        Int8Kernel kernel = Enum.Parse<Int8Kernel>(kernelName);
        var (w, bias, a) = Operands(m, n, k);
        PackedInt8Matrix q = PackedInt8Matrix.Quantize(w, n, k, bias);
        float[] expected = QuantizedOracle.Multiply(a, m, k, q, bias, null);
        Memory<float> c = TestData.AtEndOfArray(new float[m * n]);
        QuantizedGemm.Multiply(TestData.AtEndOfArray(a).Span, m, k, q, c.Span, n, accumulate: false, kernel);
        TestData.AssertBitwiseEqual(expected, c.Span, $"int8 C on {kernel}");

        float[] c0 = TestData.Uniform(m * n, 5);
        float[] accumulated = (float[])c0.Clone();
        QuantizedGemm.Multiply(a, m, k, q, accumulated, n, accumulate: true, kernel);
        TestData.AssertBitwiseEqual(QuantizedOracle.Multiply(a, m, k, q, bias, c0), accumulated, $"int8 C += on {kernel}");
    }
}
