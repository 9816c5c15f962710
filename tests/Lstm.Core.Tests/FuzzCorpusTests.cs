using Lstm.Fuzz;

namespace Lstm.Core.Tests;

/// <summary>
/// A fixed, seeded slice of what `fuzz/Lstm.Fuzz` does for as long as it is asked: every file reader, on its seeds and
/// on thousands of mutations of them, reads or throws <see cref="InvalidDataException"/>, within its allocation bound.
/// </summary>
public class FuzzCorpusTests
{
    public static TheoryData<string, int> Targets() => new()
    {
        { "npy", 20_000 },
        { "npz", 600 },        // each zip read costs ~2 ms, and the bomb seed ~40 ms
        { "safetensors", 20_000 },
        { "checkpoint", 20_000 },
        { "npy-pipe", 5_000 },
        { "npz-pipe", 300 },
        { "safetensors-pipe", 5_000 },
        { "checkpoint-pipe", 5_000 },
        { "pytorch-safetensors", 3_000 },
        { "pytorch-npz", 300 },
        { "char-lm", 3_000 },
        { "import", 3_000 },
        { "onnx", 3_000 },
    };

    [Theory]
    [MemberData(nameof(Targets))]
    public void SeedsAndMutations_ReadOrGiveInvalidDataException_WithinTheAllocationBound(string name, int count)
    {
        FuzzTarget target = FuzzTargets.Get(name);
        var findings = new List<string>();
        foreach (byte[] seed in target.Seeds)
        {
            if (FuzzTargets.Run(target, seed, out _) is { } f) findings.Add($"seed of {seed.Length} bytes: {f}");
        }
        var mutator = new Mutator(20261128);
        for (int i = 0; i < count && findings.Count < 5; i++)
        {
            byte[] input = mutator.Mutate(target.Seeds);
            if (FuzzTargets.Run(target, input, out _) is { } f) findings.Add($"mutation {i} ({input.Length} bytes, {Convert.ToHexString(input.AsSpan(0, Math.Min(48, input.Length)))}…): {f}");
        }
        Assert.True(findings.Count == 0, string.Join("\n", findings));
    }

    [Fact]
    public void TheHostileSeeds_AreRefused_AndTheValidOnesRead()
    {
        // So that the corpus is what it claims: the first seed of each target is a valid file.
        foreach (FuzzTarget t in FuzzTargets.All)
        {
            t.Parse(t.Seeds[0]);
        }
        // A zip inside a zip, a member named twice, a 100000×100000 tensor declared over 16 bytes: refused.
        FuzzTarget npz = FuzzTargets.Get("npz");
        Assert.Throws<InvalidDataException>(() => npz.Parse(npz.Seeds[2]));
        Assert.Throws<InvalidDataException>(() => npz.Parse(npz.Seeds[4]));
        FuzzTarget st = FuzzTargets.Get("safetensors");
        Assert.Throws<InvalidDataException>(() => st.Parse(st.Seeds[3]));
        FuzzTarget npy = FuzzTargets.Get("npy");
        Assert.Throws<InvalidDataException>(() => npy.Parse(npy.Seeds[7]));
        // The importer's hostile seeds: a [8, 0] weight_ih_l0 and a key twice; the char-lm's: hidden 23170 over empty tensors.
        FuzzTarget pt = FuzzTargets.Get("pytorch-safetensors");
        Assert.Throws<InvalidDataException>(() => pt.Parse(pt.Seeds[4]));
        Assert.Throws<InvalidDataException>(() => pt.Parse(pt.Seeds[5]));
        FuzzTarget lm = FuzzTargets.Get("char-lm");
        Assert.Throws<InvalidDataException>(() => lm.Parse(lm.Seeds[2]));
        // ONNX: a [1, 100000, 100000] weight over 16 bytes, and a weight kept in an external file.
        FuzzTarget onnx = FuzzTargets.Get("onnx");
        Assert.Contains("100000", Assert.Throws<InvalidDataException>(() => onnx.Parse(onnx.Seeds[3])).Message, StringComparison.Ordinal);
        Assert.Contains("external file", Assert.Throws<InvalidDataException>(() => onnx.Parse(onnx.Seeds[4])).Message, StringComparison.Ordinal);
        onnx.Parse(onnx.Seeds[5]); // the DynamicQuantizeLSTM seed is a valid model
        Assert.Contains("raw_data holds 16 bytes", Assert.Throws<InvalidDataException>(() => onnx.Parse(onnx.Seeds[6])).Message, StringComparison.Ordinal);
    }
}
