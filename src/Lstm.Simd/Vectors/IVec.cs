using System.Runtime.CompilerServices;

namespace Lstm.Simd.Vectors;

/// <summary>
/// The operations the elementwise kernels are written in, once, for every path. The scalar twin
/// (<see cref="VScalar"/>) implements them with the same rounding as the vector ones, so a kernel
/// gives bitwise the same result on every path. Comparisons return an all-ones or all-zeros mask.
/// </summary>
internal interface IVec<TSelf>
    where TSelf : struct, IVec<TSelf>
{
    static abstract int Count { get; }

    static abstract TSelf Load(ref float source, nuint index);

    static abstract void Store(TSelf value, ref float destination, nuint index);

    static abstract TSelf Create(float value);

    static abstract TSelf operator +(TSelf a, TSelf b);

    static abstract TSelf operator -(TSelf a, TSelf b);

    static abstract TSelf operator *(TSelf a, TSelf b);

    static abstract TSelf operator /(TSelf a, TSelf b);

    /// <summary><c>a · b + c</c> with one rounding.</summary>
    static abstract TSelf Fma(TSelf a, TSelf b, TSelf c);

    /// <summary><c>x &lt; bound ? bound : x</c> where a NaN <paramref name="x"/> is kept (x86 <c>maxps bound, x</c>).</summary>
    static abstract TSelf MaxKeepNaN(TSelf bound, TSelf x);

    /// <summary><c>x &gt; bound ? bound : x</c> where a NaN <paramref name="x"/> is kept (x86 <c>minps bound, x</c>).</summary>
    static abstract TSelf MinKeepNaN(TSelf bound, TSelf x);

    static abstract TSelf LessThan(TSelf a, TSelf b);

    static abstract TSelf Select(TSelf mask, TSelf ifTrue, TSelf ifFalse);

    /// <summary>Clears the sign bit.</summary>
    static abstract TSelf Abs(TSelf x);

    /// <summary>The sign bit of <paramref name="x"/> alone.</summary>
    static abstract TSelf SignBit(TSelf x);

    static abstract TSelf Or(TSelf a, TSelf b);

    static abstract TSelf Xor(TSelf a, TSelf b);

    /// <summary>Reinterprets the bits as int32, shifts each left by 23 and reinterprets back (builds 2^n from a magic-biased n).</summary>
    static abstract TSelf ShiftBitsLeft23(TSelf x);
}

