
namespace Lstm.Experiments.Tests;

/// <summary>Training never saves a NaN or an infinity, and sampling never turns one into text.</summary>
public sealed class TrainingPoisonTests : IDisposable
{
    private const string Text = "abcd abcd abdc abcd dcba abcd abcd ";
    private readonly string work = Directory.CreateTempSubdirectory("lstm-poison-").FullName;

    public void Dispose() => Directory.Delete(work, recursive: true);

    private static CharTrainer Trainer(CharModelOptions options) => new(CharLanguageModel.Create(Text, options), Text);

    private static readonly CharModelOptions Tiny = new() { Hidden = 8, Layers = 1, SequenceLength = 6, Batch = 2 };

    [Theory]
    [InlineData(double.NaN)]
    [InlineData(double.PositiveInfinity)]
    [InlineData(0.0)]
    [InlineData(-1e-3)]
    public void ATrainer_RefusesALearningRateItCannotUse(double lr)
    {
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => Trainer(Tiny with { LearningRate = lr }));
        Assert.Contains(nameof(CharModelOptions.LearningRate), e.Message);
    }

    [Theory]
    [InlineData(float.NaN)]
    [InlineData(1f)]
    [InlineData(2f)]
    [InlineData(-0.5f)]
    public void ATrainer_RefusesADropoutOutsideZeroToOne(float dropout)
    {
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => Trainer(Tiny with { Dropout = dropout }));
        Assert.Contains(nameof(CharModelOptions.Dropout), e.Message);
    }

    [Fact]
    public void AnUpdateThatOverflowsAParameter_StopsTraining_AndNothingIsSavedAfterIt()
    {
        // Finite loss and gradients, but lr = 1e300 sends every parameter the gradient touches to ±∞.
        CharTrainer trainer = Trainer(Tiny with { Optimizer = OptimizerKind.Sgd, LearningRate = 1e300 });
        string path = Path.Combine(work, "m.ckpt");
        var e = Assert.Throws<TrainingDivergedException>(() => trainer.TrainStep());
        Assert.Contains("step 1", e.Message);
        Assert.Throws<TrainingDivergedException>(() => trainer.Save(path));
        Assert.False(File.Exists(path));
    }

    [Fact]
    public void Save_RefusesNonFiniteParameters_AndLeavesTheLastGoodFile()
    {
        CharTrainer trainer = Trainer(Tiny);
        trainer.TrainStep();
        string path = Path.Combine(work, "m.ckpt");
        trainer.Save(path);
        byte[] good = File.ReadAllBytes(path);

        trainer.Model.Network.UpdateParameters(p => p["bias_hh_l0"][5] = float.PositiveInfinity);
        var e = Assert.Throws<TrainingDivergedException>(() => trainer.Save(path));
        Assert.Contains("bias_hh_l0[5]", e.Message);
        Assert.Equal(good, File.ReadAllBytes(path));
        Assert.Empty(Directory.EnumerateFiles(work, ".m.ckpt.tmp-*"));
    }

    [Fact]
    public void Sampling_WithNaNWeights_Throws_InsteadOfRepeatingTheLastCharacter()
    {
        CharLanguageModel model = Trainer(Tiny).Model;
        model.Network.UpdateParameters(p => p["weight_hh_l0"][0] = float.NaN);
        var e = Assert.Throws<InvalidOperationException>(() => model.Sample("ab", 20, 0.8, new SeededRandom(1)));
        Assert.Contains("not finite", e.Message);
    }

    [Theory]
    [InlineData(1e-308)]
    [InlineData(double.Epsilon)]
    [InlineData(1e-6)]
    public void Sampling_AtATinyTemperature_PicksTheMostLikelyCharacter(double temperature)
    {
        CharTrainer trainer = Trainer(Tiny with { LearningRate = 0.05 });
        for (int i = 0; i < 30; i++) trainer.TrainStep();
        CharLanguageModel model = trainer.Model;

        // Greedy decoding by hand: feed the prime, then always the arg-max of the head's output.
        const int Length = 25;
        int v = model.Vocabulary.Length;
        using StreamState state = model.Network.CreateStream();
        float[] x = new float[v], h = new float[model.Options.Hidden], logits = new float[v];
        var expected = new System.Text.StringBuilder("ab");
        void Feed(char c)
        {
            Array.Clear(x);
            x[model.IndexOf(c)] = 1;
            model.Network.Step(state, x, h);
        }
        Feed('a');
        Feed('b');
        for (int n = 0; n < Length; n++)
        {
            model.Head.Forward(h, 1, logits);
            char next = model.Vocabulary[Array.IndexOf(logits, logits.Max())];
            expected.Append(next);
            Feed(next);
        }
        Assert.Equal(expected.ToString(), model.Sample("ab", Length, temperature, new SeededRandom(3)));
    }
}
