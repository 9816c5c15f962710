using Lstm.Simd;

namespace Lstm.Simd.Tests;

/// <summary>Bad arguments to the 16-bit and int8 packing and GEMMs: clear exceptions naming the argument and the shapes.</summary>
public class QuantizedGemmShapeTests
{
    [Fact]
    public void Pack_WrongWeightLength_NamesWeightsAndShape()
    {
        var e = Assert.Throws<ArgumentException>(() => PackedHalfMatrix.Pack(new float[5], 2, 3, WeightFormat.BFloat16));
        Assert.Equal("weights", e.ParamName);
        Assert.Contains("[2, 3]", e.Message, StringComparison.Ordinal);
        var e8 = Assert.Throws<ArgumentException>(() => PackedInt8Matrix.Quantize(new float[7], 2, 3));
        Assert.Equal("weights", e8.ParamName);
        Assert.Contains("expected 6", e8.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(float.NaN)]
    [InlineData(float.PositiveInfinity)]
    [InlineData(70000f)] // beyond fp16's largest finite value, 65504
    public void PackFloat16_NonFiniteOrOutOfRange_Throws(float bad)
    {
        float[] w = [1f, 2f, bad, 4f];
        var e = Assert.Throws<ArgumentException>(() => PackedHalfMatrix.Pack(w, 2, 2, WeightFormat.Float16));
        Assert.Equal("weights", e.ParamName);
        Assert.Contains("weights[1, 0]", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(float.NaN)]
    [InlineData(float.NegativeInfinity)]
    [InlineData(float.MaxValue)] // rounds up to bf16 infinity
    public void PackBFloat16_NonFiniteOrOverflowing_Throws(float bad)
    {
        float[] w = [bad, 0f];
        Assert.Throws<ArgumentException>(() => PackedHalfMatrix.Pack(w, 1, 2, WeightFormat.BFloat16));
    }

    [Fact]
    public void FromBits_NonFinitePattern_Throws()
    {
        Assert.Throws<ArgumentException>(() => PackedHalfMatrix.FromBits([0x3C00, 0x7C00], 1, 2, WeightFormat.Float16));
        Assert.Throws<ArgumentException>(() => PackedHalfMatrix.FromBits([0x7FC0], 1, 1, WeightFormat.BFloat16));
        Assert.Throws<ArgumentOutOfRangeException>(() => PackedHalfMatrix.FromBits([0], 1, 1, WeightFormat.Int8));
    }

    [Fact]
    public void Int8_TooManyColumns_SaysWhy()
    {
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => PackedInt8Matrix.FromQuantized(new sbyte[PackedInt8Matrix.MaxColumns + 1], [1f], 1, PackedInt8Matrix.MaxColumns + 1));
        Assert.Equal("columns", e.ParamName);
        Assert.Contains("int32", e.Message, StringComparison.Ordinal);
        Assert.True(127L * 127 * PackedInt8Matrix.MaxColumns <= int.MaxValue);
        Assert.True(127L * 127 * (PackedInt8Matrix.MaxColumns + 1) > int.MaxValue);
    }

    [Fact]
    public void FromQuantized_RejectsMinus128AndBadScales()
    {
        Assert.Equal("q", Assert.Throws<ArgumentException>(() => PackedInt8Matrix.FromQuantized([1, -128], [1f], 1, 2)).ParamName);
        Assert.Equal("rowScales", Assert.Throws<ArgumentException>(() => PackedInt8Matrix.FromQuantized([1, 2], [float.NaN], 1, 2)).ParamName);
        Assert.Equal("rowScales", Assert.Throws<ArgumentException>(() => PackedInt8Matrix.FromQuantized([1, 2], [-1f], 1, 2)).ParamName);
        Assert.Equal("rowScales", Assert.Throws<ArgumentException>(() => PackedInt8Matrix.FromQuantized([1, 2], [1f, 1f], 1, 2)).ParamName);
    }

    [Fact]
    public void Multiply_WrongOperandLengths_NameTheArgument()
    {
        PackedHalfMatrix h = PackedHalfMatrix.Pack(new float[6], 2, 3, WeightFormat.BFloat16);
        PackedInt8Matrix q = PackedInt8Matrix.Quantize(new float[6], 2, 3);
        Assert.Equal("a", Assert.Throws<ArgumentException>(() => QuantizedGemm.Multiply(new float[5], 2, 3, h, new float[4], 2, false)).ParamName);
        Assert.Equal("c", Assert.Throws<ArgumentException>(() => QuantizedGemm.Multiply(new float[6], 2, 3, q, new float[3], 2, false)).ParamName);
        Assert.Equal("a", Assert.Throws<ArgumentOutOfRangeException>(() => QuantizedGemm.Multiply(new float[6], 2, 2, q, new float[4], 2, false)).ParamName);
        Assert.Equal("c", Assert.Throws<ArgumentOutOfRangeException>(() => QuantizedGemm.Multiply(new float[6], 2, 3, h, new float[4], 1, false)).ParamName);
        Assert.Equal("m", Assert.Throws<ArgumentOutOfRangeException>(() => QuantizedGemm.Multiply(new float[6], -1, 3, q, new float[4], 2, false)).ParamName);
        float[] shared = new float[12];
        Assert.Equal("c", Assert.Throws<ArgumentException>(() => QuantizedGemm.Multiply(shared.AsSpan(0, 6), 2, 3, q, shared.AsSpan(4, 4), 2, false)).ParamName);
    }

    [Fact]
    public void CopyOut_WrongDestination_NamesIt()
    {
        PackedHalfMatrix h = PackedHalfMatrix.Pack(new float[6], 2, 3, WeightFormat.Float16);
        PackedInt8Matrix q = PackedInt8Matrix.Quantize(new float[6], 2, 3);
        Assert.Equal("destination", Assert.Throws<ArgumentException>(() => h.CopyBits(new ushort[5])).ParamName);
        Assert.Equal("rowScales", Assert.Throws<ArgumentException>(() => q.CopyQuantized(new sbyte[6], new float[3])).ParamName);
    }
}
