
namespace Lstm.Experiments.Tests;

public class CharTrainingTests
{
    private static readonly CharModelOptions Tiny = new() { Hidden = 16, Layers = 1, SequenceLength = 12, Batch = 4, LearningRate = 0.02, Seed = 3 };

    [Fact]
    public void ATinyModel_OverfitsATinySequence()
    {
        string text = string.Concat(Enumerable.Repeat("abcdefg ", 40));
        var trainer = new CharTrainer(CharLanguageModel.Create(text, Tiny), text);
        double loss = 0;
        for (int i = 0; i < 150; i++) loss = trainer.TrainStep();
        // A deterministic cycle of 8 symbols: a model that learned it predicts each next character almost surely.
        Assert.True(loss < 0.05, $"loss {loss}");
        Assert.StartsWith("abcdefg abcdefg", trainer.Model.Sample("abcdefg ", 20, 0.5, new SeededRandom(1))[8..]);
    }

    [Fact]
    public void SameSeedAndData_GiveBitwiseIdenticalWeights()
    {
        string text = string.Concat(Enumerable.Repeat("the cell keeps its state. ", 20));
        float[] Train()
        {
            var t = new CharTrainer(CharLanguageModel.Create(text, Tiny with { Layers = 2, Dropout = 0.3f }), text);
            for (int i = 0; i < 12; i++) t.TrainStep();
            return [.. t.Model.Network.GetParameter("weight_hh_l1"), .. t.Model.Head.Weight];
        }
        Helpers.AssertBitwise(Train(), Train(), "weights");
    }

    [Fact]
    public void SaveResumeContinue_EqualsAnUninterruptedRun()
    {
        string text = string.Concat(Enumerable.Repeat("lstm remembers. ", 30));
        CharModelOptions o = Tiny with { Layers = 2, Dropout = 0.2f, Optimizer = OptimizerKind.Adam };
        var straight = new CharTrainer(CharLanguageModel.Create(text, o), text);
        for (int i = 0; i < 10; i++) straight.TrainStep();

        string path = Path.Combine(Path.GetTempPath(), $"lstm-resume-{Guid.NewGuid():N}.ckpt");
        try
        {
            var first = new CharTrainer(CharLanguageModel.Create(text, o), text);
            for (int i = 0; i < 4; i++) first.TrainStep();
            first.Save(path);
            var resumed = CharTrainer.Resume(path, text);
            Assert.Equal(4, resumed.Step);
            for (int i = 0; i < 6; i++) resumed.TrainStep();
            foreach (ParameterInfo info in straight.Model.Network.ParameterInfos)
            {
                Helpers.AssertBitwise(straight.Model.Network.GetParameter(info.Name), resumed.Model.Network.GetParameter(info.Name), info.Name);
            }
            Helpers.AssertBitwise(straight.Model.Head.Weight, resumed.Model.Head.Weight, "head");
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void DivergingTraining_StopsWithAClearError_AndLeavesTheParametersAlone()
    {
        string text = string.Concat(Enumerable.Repeat("xy", 50));
        var trainer = new CharTrainer(CharLanguageModel.Create(text, Tiny), text);
        trainer.Model.Network.UpdateParameters(p => p["weight_ih_l0"][0] = float.NaN);
        float[] before = trainer.Model.Head.Weight.ToArray();
        var e = Assert.Throws<TrainingDivergedException>(() => trainer.TrainStep());
        Assert.Contains("step 1", e.Message);
        Helpers.AssertBitwise(before, trainer.Model.Head.Weight, "head untouched");
    }
}
