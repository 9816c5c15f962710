using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.Arm;
using System.Runtime.Intrinsics.X86;

namespace Lstm.Simd;

/// <summary>
/// The registry of kernel paths: which this CPU runs, in order of preference, and the one used by default.
/// Tests and benchmarks enumerate <see cref="Available"/>, so every path this machine has is exercised.
/// </summary>
public static class SimdPaths
{
    /// <summary>Environment variable that forces a path: <c>scalar</c>, <c>vector128</c>, <c>avx2</c> or <c>avx512</c>.</summary>
    public const string EnvironmentVariable = "LSTM_SIMD";

    private const string AcceptedNames = "scalar, vector128, avx2 or avx512";

    // Before Available, whose initializer reads it (static fields initialize in the order they are written).
    private static readonly SimdPath[] Preference = [SimdPath.Avx512, SimdPath.Avx2, SimdPath.Vector128, SimdPath.Scalar];

    /// <summary>The paths this CPU can run, best first (Avx512, Avx2, Vector128, Scalar). Scalar is always last.</summary>
    public static IReadOnlyList<SimdPath> Available { get; } = FindAvailable();

    /// <summary>
    /// The path used when a caller names none: <see cref="EnvironmentVariable"/> if set, else the best available. A value
    /// that names no path, or one this CPU cannot run, makes this (and so every call that names no path) throw
    /// <see cref="InvalidOperationException"/> naming the variable, its value and the accepted values; calls that name
    /// a path are unaffected.
    /// </summary>
    public static SimdPath Default => ForcedDefault.Choice.Path ?? throw new InvalidOperationException(ForcedDefault.Choice.Error);

    /// <summary>Whether this CPU (and runtime configuration) can run <paramref name="path"/>.</summary>
    public static bool IsSupported(SimdPath path) => path switch
    {
        SimdPath.Scalar => true,
        SimdPath.Avx2 => Vector256.IsHardwareAccelerated && Avx2.IsSupported && Fma.IsSupported,
        SimdPath.Avx512 => Vector512.IsHardwareAccelerated && Avx512F.IsSupported,
        // A fused multiply-add in hardware too: without it (x86 before FMA3) each lane's FMA is a software call, and
        // the path would be no faster than the scalar twin, which makes the same calls.
        SimdPath.Vector128 => Vector128.IsHardwareAccelerated && (Fma.IsSupported || AdvSimd.IsSupported),
        _ => false,
    };

    /// <summary>The lower-case name used by <see cref="EnvironmentVariable"/> and in benchmark names.</summary>
    public static string Name(SimdPath path) => path switch
    {
        SimdPath.Scalar => "scalar",
        SimdPath.Avx2 => "avx2",
        SimdPath.Avx512 => "avx512",
        SimdPath.Vector128 => "vector128",
        _ => throw new ArgumentOutOfRangeException(nameof(path), path, "Unknown SIMD path."),
    };

    /// <summary>Parses a name such as <c>avx2</c>; throws if the name is unknown or the path is not supported here.</summary>
    public static SimdPath Parse(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        SimdPath path = FromName(name) ?? throw new ArgumentException($"Unknown SIMD path '{name}'; expected {AcceptedNames}.", nameof(name));
        if (!IsSupported(path))
        {
            throw new PlatformNotSupportedException($"SIMD path '{name}' is not supported on this CPU; available: {string.Join(", ", FindAvailable().Select(Name))}.");
        }
        return path;
    }

    /// <summary><paramref name="path"/> if given (throwing if this CPU cannot run it), else <see cref="Default"/>.</summary>
    public static SimdPath Resolve(SimdPath? path)
    {
        if (path is not { } p)
        {
            return Default;
        }
        if (!IsSupported(p))
        {
            throw new PlatformNotSupportedException($"SIMD path {Name(p)} is not supported on this CPU.");
        }
        return p;
    }

    private static SimdPath[] FindAvailable() =>
        Preference.Where(IsSupported).ToArray();

    /// <summary>
    /// The default for a value of <see cref="EnvironmentVariable"/>: a path, or why there is none. Never throws, since it
    /// runs in a type initializer (a throw there would break every later use of the type, even with a path given).
    /// </summary>
    internal static (SimdPath? Path, string? Error) ChooseDefault(string? forced)
    {
        if (string.IsNullOrWhiteSpace(forced))
        {
            return (FindAvailable()[0], null);
        }
        string accepted = $"set it to {AcceptedNames} (this CPU runs {string.Join(", ", FindAvailable().Select(Name))}), or unset it for the best available";
        if (FromName(forced) is not { } p)
        {
            return (null, $"The environment variable {EnvironmentVariable}='{forced}' names no SIMD path: {accepted}.");
        }
        return IsSupported(p) ? (p, null) : (null, $"The environment variable {EnvironmentVariable}='{forced}' names a SIMD path this CPU cannot run: {accepted}.");
    }

    private static SimdPath? FromName(string name) => name.Trim().ToUpperInvariant() switch
    {
        "SCALAR" => SimdPath.Scalar,
        "VECTOR128" => SimdPath.Vector128,
        "AVX2" => SimdPath.Avx2,
        "AVX512" => SimdPath.Avx512,
        _ => null,
    };

    // Its own type, so that reading the variable happens when a default is first needed, not whenever SimdPaths is used.
    private static class ForcedDefault
    {
        public static readonly (SimdPath? Path, string? Error) Choice = ChooseDefault(Environment.GetEnvironmentVariable(EnvironmentVariable));
    }
}
