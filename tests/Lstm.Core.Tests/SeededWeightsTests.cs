namespace Lstm.Core.Tests;

/// <summary>A seed means the same initial weights on every machine and .NET version.</summary>
public sealed class SeededWeightsTests
{
    [Fact]
    public void Create_DrawsItsWeightsFromSeededRandom_WhoseSequenceIsFixed()
    {
        // SplitMix64 from seed 1, mapped to U(-1/√H, 1/√H) with H = 4, computed independently of .NET (in Python, from
        // the generator's published constants). System.Random's sequence may change between .NET versions; this may not.
        float[] w = RecurrentNetwork.Create(new RecurrentOptions(3, 4), seed: 1).GetParameter("weight_ih_l0");
        Assert.Equal([-0.0684720054268837f, -0.4735662341117859f, 0.47088196873664856f, -0.3936533033847809f], w[..4]);
    }
}
