using Lstm.Simd;

namespace Lstm.Simd.Tests;

public class ReluRnnCellTests
{
    // PyTorch's relu is max(0, x) with NaN kept and relu(−0) = −0; its gradient is threshold_backward(dh, h, 0),
    // which zeroes only where h ≤ 0 (so a NaN h passes dh on). Every value here is exact: no tolerance.
    private static readonly float[] Special = [float.NaN, -0f, 0f, float.PositiveInfinity, float.NegativeInfinity, float.Epsilon, -float.Epsilon, float.MaxValue, -float.MaxValue, 1e-30f, -1e-30f];

    private static float[] Inputs(int n, int seed)
    {
        float[] pre = TestData.Uniform(n, seed, 4f);
        for (int i = 0; i < n; i += 3)
        {
            pre[i] = Special[(i / 3) % Special.Length]; // special values at every lane position over the sizes
        }
        return pre;
    }

    [Theory]
    [MemberData(nameof(TestData.PathsBySize), MemberType = typeof(TestData))]
    public void Forward_EqualsScalarTwin_AndPyTorchsRelu(SimdPath path, int n)
    {
        float[] pre = Inputs(n, n);
        float[] h0 = new float[n], h1 = new float[n];
        ReluRnnCell.Forward(pre, h0, SimdPath.Scalar);
        ReluRnnCell.Forward(pre, h1, path);
        TestData.AssertBitwiseEqual(h0, h1, "h");
        float[] expected = pre.Select(v => float.IsNaN(v) || v > 0 || (v == 0 && float.IsNegative(v)) ? v : 0f).ToArray();
        TestData.AssertBitwiseEqual(expected, h1, "relu");

        float[] inPlace = (float[])pre.Clone();
        ReluRnnCell.Forward(inPlace, inPlace, path);
        TestData.AssertBitwiseEqual(expected, inPlace, "relu in place");
    }

    [Theory]
    [MemberData(nameof(TestData.PathsBySize), MemberType = typeof(TestData))]
    public void Backward_EqualsScalarTwin_AndThresholdBackward(SimdPath path, int n)
    {
        float[] h = new float[n];
        ReluRnnCell.Forward(Inputs(n, n + 7), h, SimdPath.Scalar);
        float[] dh = TestData.Uniform(n, n + 1);
        if (n > 1) dh[1] = float.NaN; // a NaN upstream gradient is zeroed where h ≤ 0, as in PyTorch
        float[] d0 = new float[n], d1 = new float[n];
        ReluRnnCell.Backward(h, dh, d0, SimdPath.Scalar);
        ReluRnnCell.Backward(h, dh, d1, path);
        TestData.AssertBitwiseEqual(d0, d1, "dPre");
        float[] expected = h.Select((v, i) => v <= 0 ? 0f : dh[i]).ToArray(); // NaN <= 0 is false: NaN passes dh
        TestData.AssertBitwiseEqual(expected, d1, "threshold_backward");
    }

    [Fact]
    public void Backward_ChecksItsSpans()
    {
        ArgumentException e = Assert.Throws<ArgumentException>(() => ReluRnnCell.Backward(new float[3], new float[2], new float[3]));
        Assert.Equal("dh", e.ParamName);
        e = Assert.Throws<ArgumentException>(() => ReluRnnCell.Forward(new float[3], new float[4]));
        Assert.Equal("h", e.ParamName);
    }
}
