using System.Runtime.CompilerServices;

namespace Lstm.Core.Tests;

internal static class TestSetup
{
    /// <summary>
    /// Streams split as far as the slices allow (a stream's thread count is otherwise capped at one per
    /// <see cref="RecurrentNetwork.MinUnitsPerThread"/> units), so that small, fast cases cover the split code;
    /// <see cref="StreamPolicyTests"/> tests the cap itself.
    /// </summary>
#pragma warning disable CA2255 // a module initializer in a test assembly: it configures the library under test before any test
    [ModuleInitializer]
    internal static void SplitSmallStreams() => RecurrentNetwork.StreamUnitsPerThread = 1;
#pragma warning restore CA2255
}
