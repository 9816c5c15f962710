using Lstm.Simd;

namespace Lstm.Simd.Tests;

public class SimdPathsTests
{
    [Fact]
    public void Available_IsBestFirst_AndEndsWithScalar()
    {
        Assert.Equal(SimdPath.Scalar, SimdPaths.Available[^1]);
        Assert.Equal(SimdPaths.Available.OrderByDescending(p => p), SimdPaths.Available);
        Assert.All(SimdPaths.Available, p => Assert.True(SimdPaths.IsSupported(p)));
    }

    [Fact]
    public void Default_IsTheForcedPath_OrTheBest()
    {
        string? forced = Environment.GetEnvironmentVariable(SimdPaths.EnvironmentVariable);
        SimdPath expected = string.IsNullOrEmpty(forced) ? SimdPaths.Available[0] : SimdPaths.Parse(forced);
        Assert.Equal(expected, SimdPaths.Default);
    }

    [Theory]
    [InlineData("scalar", SimdPath.Scalar)]
    [InlineData("AVX2", SimdPath.Avx2)]
    [InlineData(" avx512 ", SimdPath.Avx512)]
    public void Parse_AcceptsTheNames(string name, SimdPath path)
    {
        if (SimdPaths.IsSupported(path))
        {
            Assert.Equal(path, SimdPaths.Parse(name));
            Assert.Equal(path, SimdPaths.Parse(SimdPaths.Name(path)));
        }
        else
        {
            Assert.Throws<PlatformNotSupportedException>(() => SimdPaths.Parse(name));
        }
    }

    [Fact]
    public void Parse_RejectsUnknownNames() =>
        Assert.Contains("sse9", Assert.Throws<ArgumentException>(() => SimdPaths.Parse("sse9")).Message);
}
