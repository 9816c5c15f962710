using System.IO.Hashing;
using System.Runtime.InteropServices;
using Lstm.Experiments;
using Lstm.Experiments.CharModel;
using Lstm.Core;
using Lstm.Core.Training;

namespace Lstm.Core.Tests;

/// <summary>
/// The README's main job (2 × LSTM(128), batch 32 × 50, Adam, clip 5) pinned by the bits of its first losses and of
/// every parameter after a few steps, as computed before training stopped allocating per step and before the backward
/// pass could split B = 1 across threads: any change to the arithmetic of a step shows here.
/// </summary>
public class TrainingBitsTests
{
    internal static string Text()
    {
        string[] words = ["the", "memory", "cell", "keeps", "forget", "gate", "carries", "error", "signal", "through", "night", "state"];
        var sb = new System.Text.StringBuilder();
        var rng = new SeededRandom(7);
        while (sb.Length < 20_000)
        {
            sb.Append(words[rng.Next(words.Length)]).Append(rng.Next(9) == 0 ? ". " : " ");
        }
        return sb.ToString();
    }

    internal static ulong Hash(CharLanguageModel model)
    {
        var hash = new XxHash64();
        foreach (ParameterInfo info in model.Network.ParameterInfos) hash.Append(MemoryMarshal.AsBytes(model.Network.GetParameter(info.Name).AsSpan()));
        hash.Append(MemoryMarshal.AsBytes(model.Head.Weight.AsSpan()));
        hash.Append(MemoryMarshal.AsBytes(model.Head.Bias.AsSpan()));
        return hash.GetCurrentHashAsUInt64();
    }

    [Theory]
    [InlineData(1, 32, 0f, "40080251B39BD17A 4007C1797DDA0437 40077E116B743D8E 40070A7415707153", 0x909ECB08EFC29081UL)]
    [InlineData(2, 32, 0f, "40080251B39BD17A 4007C1797DDA0437 40077E116B743D8E 40070A7415707153", 0x909ECB08EFC29081UL)]
    [InlineData(2, 32, 0.25f, "400802398113D064 4007C1ADD2AA8498 40077EC3AFECDAF1 40070B486CE6E32E", 0x074364E249B68FA5UL)]
    [InlineData(1, 1, 0f, "400807DDFB17A2D3 4007CCEA832B45E9 40078D88C99DF63F 40074110F8BDC217", 0x2DB6DC448503693BUL)]
    [InlineData(2, 1, 0f, "400807DDFB17A2D3 4007CCEA832B45E9 40078D88C99DF63F 40074110F8BDC217", 0x2DB6DC448503693BUL)]
    public void TheMainJob_GivesThePinnedLossesAndWeights(int threads, int batch, float dropout, string losses, ulong weights)
    {
        string text = Text();
        var model = CharLanguageModel.Create(text, new CharModelOptions { Dropout = dropout, Batch = batch });
        model.Network.Threads = threads;
        var trainer = new CharTrainer(model, text);
        var seen = new List<string>();
        for (int i = 0; i < 4; i++) seen.Add(BitConverter.DoubleToInt64Bits(trainer.TrainStep()).ToString("X16", System.Globalization.CultureInfo.InvariantCulture));
        model.Network.Dispose();
        Assert.Equal(losses, string.Join(" ", seen));
        Assert.Equal(weights, Hash(model));
    }
}
