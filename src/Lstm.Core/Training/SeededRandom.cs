namespace Lstm.Core.Training;

/// <summary>
/// A small, fast generator (SplitMix64) whose whole state is one number, so a checkpoint can save and restore it:
/// the same seed gives the same sequence on every machine and .NET version, unlike <see cref="Random"/>.
/// </summary>
public sealed class SeededRandom(ulong state)
{
    public SeededRandom(int seed)
        : this(unchecked((ulong)seed * 0x9E3779B97F4A7C15UL))
    {
    }

    /// <summary>The whole state: pass it to the constructor, or set it, to continue the same sequence.</summary>
    public ulong State { get; set; } = state;

    public ulong NextUInt64()
    {
        ulong z = State += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    /// <summary>Uniform in [0, 1) with 53 random bits.</summary>
    public double NextDouble() => (NextUInt64() >> 11) * (1.0 / (1UL << 53));

    /// <summary>Uniform in [0, n).</summary>
    public int Next(int n) => n <= 0 ? throw new ArgumentOutOfRangeException(nameof(n), n, "n must be ≥ 1.") : (int)(NextDouble() * n);

    /// <summary>Uniform in [lo, hi).</summary>
    public double Uniform(double lo, double hi) => lo + ((hi - lo) * NextDouble());
}
