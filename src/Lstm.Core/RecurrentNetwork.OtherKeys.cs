using Lstm.Simd;

namespace Lstm.Core;

public sealed partial class RecurrentNetwork
{
    /// <summary>
    /// <see cref="FromParameters(RecurrentOptions, IReadOnlyDictionary{string, float[]}, SimdPath?)"/> from a larger
    /// dictionary: with <paramref name="ignoreOtherKeys"/>, keys that are not this network's parameters (another
    /// module's, an optimizer's) are left out instead of refused. Missing or mis-shaped parameters are still errors.
    /// </summary>
    public static RecurrentNetwork FromParameters(RecurrentOptions options, IReadOnlyDictionary<string, float[]> values, bool ignoreOtherKeys, SimdPath? kernelPath = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(values);
        if (!ignoreOtherKeys)
        {
            return FromParameters(options, values, kernelPath);
        }
        var names = new HashSet<string>(ParameterLayout.For(options).Select(i => i.Name), StringComparer.Ordinal);
        return FromParameters(options, values.Where(kv => names.Contains(kv.Key)).ToDictionary(kv => kv.Key, kv => kv.Value, StringComparer.Ordinal), kernelPath);
    }
}
