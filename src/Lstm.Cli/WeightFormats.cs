using System.CommandLine;
using Lstm.Simd;

namespace Lstm.Cli;

/// <summary>The weight formats by their command-line names (float32, float16, bfloat16, int8).</summary>
public static class WeightFormats
{
    public static readonly WeightFormat[] All = [WeightFormat.Float32, WeightFormat.Float16, WeightFormat.BFloat16, WeightFormat.Int8];

    public static string Name(WeightFormat format) => format.ToString().ToLowerInvariant();

    public static Option<string?> Option(string description)
    {
        var o = new Option<string?>("--weight-format") { Description = description };
        o.AcceptOnlyFromAmong([.. All.Select(Name)]);
        return o;
    }

    public static WeightFormat? Parse(string? name) => name is null ? null : All.First(f => Name(f) == name);
}
