using System.Text.RegularExpressions;
using Lstm.Simd.Vectors;
using Lstm.Tests.Shared;

namespace Lstm.Simd.Tests;

/// <summary>How kernels go from a <see cref="SimdPath"/> to vector widths.</summary>
public partial class DispatchTests
{
    [Theory]
    [InlineData(SimdPath.Scalar, false, false, false)]
    [InlineData(SimdPath.Vector128, false, false, true)]
    [InlineData(SimdPath.Avx2, false, true, true)]
    [InlineData(SimdPath.Avx512, true, true, true)]
    public void EachPath_RunsOnlyTheWidthsItsCpuHas(SimdPath path, bool v512, bool v256, bool v128)
    {
        // Vector128 must not reach Vector256 code: on ARM64 that code calls x86 intrinsics and throws.
        Assert.Equal(v512, VectorLadder.Has512(path));
        Assert.Equal(v256, VectorLadder.Has256(path));
        Assert.Equal(v128, VectorLadder.Has128(path));
    }

    [Fact]
    public void NoKernelRanksPathsByTheirValues()
    {
        // The enum's values are names: Vector128 (3) came after Avx512 (2), so `p >= SimdPath.Avx2` holds for it and
        // would send it to Vector256 code. Every dispatch goes through VectorLadder, a switch or ==; this finds any
        // ordering comparison of a SimdPath in the shipped code (a kernel added later included).
        string src = Path.Combine(Repository.Root(), "src");
        var offenders = Directory.EnumerateFiles(src, "*.cs", SearchOption.AllDirectories)
            .Where(f => !f.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}", StringComparison.Ordinal))
            .SelectMany(f => File.ReadLines(f).Select((line, i) => (f, i, line)))
            .Where(x => OrderingComparison().IsMatch(x.line))
            .Select(x => $"{Path.GetRelativePath(src, x.f)}:{x.i + 1}: {x.line.Trim()}")
            .ToList();
        Assert.True(offenders.Count == 0, "SimdPath compared by order:\n" + string.Join("\n", offenders));
    }

    [Theory]
    [InlineData("if (p >= SimdPath.Avx2)", true)]
    [InlineData("if (SimdPath.Avx2 <= path)", true)]
    [InlineData("while (path > SimdPath.Scalar)", true)]
    [InlineData("if (path == SimdPath.Avx512)", false)]
    [InlineData("case SimdPath.Avx512 or SimdPath.Avx2 when m >= WidenOnceRows:", false)]
    [InlineData("SimdPath.Vector128 => Vector128.IsHardwareAccelerated", false)]
    public void TheOrderingPattern_FindsComparisons_AndNothingElse(string line, bool found) =>
        Assert.Equal(found, OrderingComparison().IsMatch(line));

    // `x OP SimdPath.Name` or `SimdPath.Name OP x` with OP one of < <= > >= (not =>, not a generic's angle bracket).
    [GeneratedRegex(@"(?<![=<>])(<|<=|>|>=)\s*SimdPath\.\w+|SimdPath\.\w+\s*(<|<=|>(?!=)|>=)(?![=>])")]
    private static partial Regex OrderingComparison();
}
