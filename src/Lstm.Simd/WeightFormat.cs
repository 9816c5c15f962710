namespace Lstm.Simd;

/// <summary>How many bits a packed weight takes, and how it maps to a float.</summary>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Naming", "CA1720:Identifier contains type name", Justification = "The members name number formats (as safetensors dtypes do), not .NET types.")]
public enum WeightFormat
{
    /// <summary>IEEE binary32: <see cref="PackedMatrix"/> and <see cref="Gemm"/>.</summary>
    Float32 = 0,

    /// <summary>IEEE binary16 (11 significant bits, range ±65504): <see cref="PackedHalfMatrix"/>.</summary>
    Float16 = 1,

    /// <summary>bfloat16, the upper half of a binary32 (8 significant bits, float32's range): <see cref="PackedHalfMatrix"/>.</summary>
    BFloat16 = 2,

    /// <summary>Signed 8-bit integers with one float32 scale per output row: <see cref="PackedInt8Matrix"/>.</summary>
    Int8 = 3,
}
