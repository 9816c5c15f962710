using Lstm.Core;
using Lstm.Core.Training;

namespace Lstm.Core.Tests;

/// <summary>The character model with a GRU: it learns, and its checkpoints save, resume and sample.</summary>
public class GruTrainingTests
{
    private static readonly CharModelOptions Tiny = new() { Hidden = 16, Layers = 2, SequenceLength = 12, Batch = 4, LearningRate = 0.02, Seed = 3, Cell = CellKind.Gru };

    [Fact]
    public void ATinyGruModel_OverfitsATinySequence()
    {
        string text = string.Concat(Enumerable.Repeat("abcdefg", 40));
        var trainer = new CharTrainer(CharLanguageModel.Create(text, Tiny with { Layers = 1 }), text);
        Assert.Equal(CellKind.Gru, trainer.Model.Network.Options.Cell);
        double loss = 0;
        for (int i = 0; i < 300; i++) loss = trainer.TrainStep();
        Assert.True(loss < 0.05, $"loss {loss}");
    }

    [Fact]
    public void SaveResumeContinue_EqualsAnUninterruptedRun_AndTheModelSamples()
    {
        string text = string.Concat(Enumerable.Repeat("gru remembers. ", 30));
        CharModelOptions o = Tiny with { Dropout = 0.2f };
        var straight = new CharTrainer(CharLanguageModel.Create(text, o), text);
        for (int i = 0; i < 10; i++) straight.TrainStep();

        string path = Path.Combine(Path.GetTempPath(), $"gru-resume-{Guid.NewGuid():N}.ckpt");
        try
        {
            var first = new CharTrainer(CharLanguageModel.Create(text, o), text);
            for (int i = 0; i < 4; i++) first.TrainStep();
            first.Save(path);
            Checkpoint saved = Checkpoint.Load(path);
            Assert.Equal("2", saved.Metadata["cell"]); // CellKind.Gru as its enum value
            Assert.Empty(saved.Tensors["state.c"]);    // a GRU carries h only

            var resumed = CharTrainer.Resume(path, text);
            Assert.Equal(CellKind.Gru, resumed.Model.Options.Cell);
            for (int i = 0; i < 6; i++) resumed.TrainStep();
            foreach (ParameterInfo info in straight.Model.Network.ParameterInfos)
            {
                Helpers.AssertBitwise(straight.Model.Network.GetParameter(info.Name), resumed.Model.Network.GetParameter(info.Name), info.Name);
            }
            Helpers.AssertBitwise(straight.Model.Head.Weight, resumed.Model.Head.Weight, "head");

            CharLanguageModel model = CharTrainer.LoadModel(path);
            Assert.Equal(CellKind.Gru, model.Network.Options.Cell);
            Assert.StartsWith("gru ", model.Sample("gru ", 20, 0.8, new SeededRandom(1)));
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Theory]
    [InlineData("7")]
    [InlineData("gru")]
    public void ACheckpointWithAnUnknownCell_IsRefused(string cell)
    {
        string text = string.Concat(Enumerable.Repeat("abc ", 20));
        var trainer = new CharTrainer(CharLanguageModel.Create(text, Tiny), text);
        string path = Path.Combine(Path.GetTempPath(), $"gru-cell-{Guid.NewGuid():N}.ckpt");
        try
        {
            trainer.Save(path);
            Checkpoint c = Checkpoint.Load(path);
            c.Metadata["cell"] = cell;
            c.Save(path);
            var e = Assert.Throws<InvalidDataException>(() => CharTrainer.LoadModel(path));
            Assert.Contains("model options are malformed", e.Message);
        }
        finally
        {
            File.Delete(path);
        }
    }
}
