using Lstm.Simd;

namespace Lstm.Simd.Tests;

public class SimdPathsTests
{
    [Fact]
    public void Available_IsBestFirst_AndEndsWithScalar()
    {
        // The order is the registry's, not the enum's: Vector128 (value 3) ranks below Avx2 (1).
        SimdPath[] best = [SimdPath.Avx512, SimdPath.Avx2, SimdPath.Vector128, SimdPath.Scalar];
        Assert.Equal(SimdPath.Scalar, SimdPaths.Available[^1]);
        Assert.Equal(best.Where(SimdPaths.IsSupported), SimdPaths.Available);
        Assert.Equal(Enum.GetValues<SimdPath>().Order(), best.Order());
    }

    [Fact]
    public void Vector128_RunsWhereverA128BitFusedMultiplyAddDoes()
    {
        // This x86 machine (FMA3) and ARM64 (NEON, under emulation in .ci/run) both run it: the kernel tests cover it.
        bool fma128 = System.Runtime.Intrinsics.Vector128.IsHardwareAccelerated
            && (System.Runtime.Intrinsics.X86.Fma.IsSupported || System.Runtime.Intrinsics.Arm.AdvSimd.IsSupported);
        Assert.Equal(fma128, SimdPaths.IsSupported(SimdPath.Vector128));
        Assert.Equal(fma128, SimdPaths.Available.Contains(SimdPath.Vector128));
        if (System.Runtime.Intrinsics.X86.Fma.IsSupported || System.Runtime.InteropServices.RuntimeInformation.ProcessArchitecture == System.Runtime.InteropServices.Architecture.Arm64)
        {
            Assert.Contains(SimdPath.Vector128, SimdPaths.Available);
        }
        Assert.Equal("vector128", SimdPaths.Name(SimdPath.Vector128));
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
    [InlineData("Vector128", SimdPath.Vector128)]
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
    [InlineData("vector128", SimdPath.Vector128)]
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
        Assert.Contains("scalar, vector128, avx2 or avx512", error);
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

/// <summary>Sets <c>LSTM_SIMD</c> for the process for a moment: no other test may read it meanwhile.</summary>
[CollectionDefinition("Environment", DisableParallelization = true)]
public sealed class ChangesTheEnvironment;

[Collection("Environment")]
public class SimdPathsEnvironmentTests
{
    [Fact]
    public void ABadVariable_BreaksOnlyTheDefault_NotCallsThatNameAPath()
    {
        _ = SimdPaths.Default; // this load's default is read (from the real environment) before the variable changes
        string? saved = Environment.GetEnvironmentVariable(SimdPaths.EnvironmentVariable);
        var fresh = new System.Runtime.Loader.AssemblyLoadContext("bad LSTM_SIMD", isCollectible: true);
        try
        {
            Environment.SetEnvironmentVariable(SimdPaths.EnvironmentVariable, "sse9");
            // A second, fresh copy of Lstm.Simd: its SimdPaths initializes under the bad value, as a new process would.
            System.Reflection.Assembly simd = fresh.LoadFromAssemblyPath(typeof(SimdPaths).Assembly.Location);
            Type paths = simd.GetType(typeof(SimdPaths).FullName!)!, path = simd.GetType(typeof(SimdPath).FullName!)!;
            object scalar = Enum.Parse(path, nameof(SimdPath.Scalar));
            object? Call(string method, params object?[] args) => paths.GetMethod(method)!.Invoke(null, args);

            // What every kernel does with the path it is given, and a kernel itself, on each path this CPU runs.
            Assert.Equal(scalar, Call(nameof(SimdPaths.Resolve), scalar));
            Assert.Equal(true, Call(nameof(SimdPaths.IsSupported), scalar));
            float[] x = [-3f, -0.5f, 0f, 0.25f, 2f, 9f, 20f, -20f, 1e-3f], expected = new float[x.Length];
            Activation.Sigmoid(x, expected, SimdPath.Scalar);
            foreach (SimdPath p in SimdPaths.Available)
            {
                float[] y = new float[x.Length];
                SigmoidIn(simd, path)(x, y, Enum.Parse(path, p.ToString()));
                Assert.Equal(expected, y);
            }

            // Where the default is used: a clear error.
            var e = Assert.Throws<System.Reflection.TargetInvocationException>(() => Call(nameof(SimdPaths.Resolve), [null]));
            var error = Assert.IsType<InvalidOperationException>(e.InnerException);
            Assert.Contains("LSTM_SIMD='sse9'", error.Message);
            Assert.Contains("scalar, vector128, avx2 or avx512", error.Message);
            e = Assert.Throws<System.Reflection.TargetInvocationException>(() => paths.GetProperty(nameof(SimdPaths.Default))!.GetValue(null));
            Assert.IsType<InvalidOperationException>(e.InnerException);

            // And after that error, the rest of the registry and the kernels still work (a failed type initializer
            // would make every later use of SimdPaths throw).
            var available = (System.Collections.IEnumerable)paths.GetProperty(nameof(SimdPaths.Available))!.GetValue(null)!;
            Assert.Equal(SimdPaths.Available.Select(p => p.ToString()), available.Cast<object>().Select(p => p.ToString()));
            float[] again = new float[x.Length];
            SigmoidIn(simd, path)(x, again, scalar);
            Assert.Equal(expected, again);
        }
        finally
        {
            Environment.SetEnvironmentVariable(SimdPaths.EnvironmentVariable, saved);
            fresh.Unload();
        }
    }

    // Activation.Sigmoid(ReadOnlySpan<float>, Span<float>, SimdPath?) of another load: spans cannot go through
    // reflection's Invoke, so a small dynamic method converts the arrays and unboxes the path.
    private static Action<float[], float[], object> SigmoidIn(System.Reflection.Assembly simd, Type path)
    {
        Type nullablePath = typeof(Nullable<>).MakeGenericType(path);
        System.Reflection.MethodInfo sigmoid = simd.GetType(typeof(Activation).FullName!)!
            .GetMethod(nameof(Activation.Sigmoid), [typeof(ReadOnlySpan<float>), typeof(Span<float>), nullablePath])!;
        var method = new System.Reflection.Emit.DynamicMethod("sigmoid", null, [typeof(float[]), typeof(float[]), typeof(object)], typeof(SimdPathsEnvironmentTests).Module);
        System.Reflection.Emit.ILGenerator il = method.GetILGenerator();
        il.Emit(System.Reflection.Emit.OpCodes.Ldarg_0);
        il.Emit(System.Reflection.Emit.OpCodes.Call, typeof(ReadOnlySpan<float>).GetMethod("op_Implicit", [typeof(float[])])!);
        il.Emit(System.Reflection.Emit.OpCodes.Ldarg_1);
        il.Emit(System.Reflection.Emit.OpCodes.Call, typeof(Span<float>).GetMethod("op_Implicit", [typeof(float[])])!);
        il.Emit(System.Reflection.Emit.OpCodes.Ldarg_2);
        il.Emit(System.Reflection.Emit.OpCodes.Unbox_Any, nullablePath);
        il.Emit(System.Reflection.Emit.OpCodes.Call, sigmoid);
        il.Emit(System.Reflection.Emit.OpCodes.Ret);
        return method.CreateDelegate<Action<float[], float[], object>>();
    }
}
