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

/// <summary>
/// A bad <c>LSTM_SIMD</c> value: <see cref="SimdPaths.Default"/> is read from the environment once per process, so these
/// test the seam that turns the variable's value into the default, and that nothing else of SimdPaths depends on it.
/// </summary>
public class SimdPathsDefaultTests
{
    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("  ")]
    public void Unset_GivesTheBestAvailable(string? value) =>
        Assert.Equal((SimdPaths.Available[0], (string?)null), SimdPaths.ChooseDefault(value));

    [Theory]
    [InlineData("scalar", SimdPath.Scalar)]
    [InlineData(" AVX2 ", SimdPath.Avx2)]
    [InlineData("avx512", SimdPath.Avx512)]
    public void APathName_GivesThatPath_WhereThisCpuRunsIt(string value, SimdPath path)
    {
        (SimdPath? chosen, string? error) = SimdPaths.ChooseDefault(value);
        if (SimdPaths.IsSupported(path))
        {
            Assert.Equal((path, (string?)null), (chosen, error));
        }
        else
        {
            Assert.Null(chosen);
            Assert.Contains("cannot run", error);
        }
    }

    [Theory]
    [InlineData("sse9")]
    [InlineData("avx-512")]
    [InlineData("1")]
    public void AnUnknownValue_IsAnErrorNamingTheVariableItsValueAndTheAcceptedValues(string value)
    {
        // Before: Parse threw inside SimdPaths' type initializer, so every kernel call (even with a path) threw
        // TypeInitializationException. Now the choice never throws; only Default does, with this message.
        (SimdPath? chosen, string? error) = SimdPaths.ChooseDefault(value);
        Assert.Null(chosen);
        Assert.NotNull(error);
        Assert.Contains($"LSTM_SIMD='{value}'", error);
        Assert.Contains("scalar, avx2 or avx512", error);
        Assert.Contains("unset it", error);
    }

    [Fact]
    public void Default_IsAPropertyOverTheChoice_NotATypeInitializerThatCouldThrow()
    {
        // SimdPaths itself must hold no static state that reads the environment: a bad value may break only Default.
        var fields = typeof(SimdPaths).GetFields(System.Reflection.BindingFlags.Static | System.Reflection.BindingFlags.NonPublic | System.Reflection.BindingFlags.Public)
            .Where(f => f.FieldType == typeof(SimdPath));
        Assert.Empty(fields);
    }
}
