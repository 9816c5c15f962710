
namespace Lstm.Experiments.Tests;

/// <summary>
/// The character model's optimizer is an <see cref="OptimizerKind"/>, written and read as the words the option took
/// when it was a string (so older checkpoints load); the checkpoint's cell entry is NetworkMetadata's alone.
/// </summary>
public sealed class OptimizerKindTests : IDisposable
{
    private const string Text = "the forget gate keeps the cell. the input gate writes it. ";
    private readonly string work = Directory.CreateTempSubdirectory("lstm-optimizer-kind-").FullName;

    public void Dispose() => Directory.Delete(work, recursive: true);

    private string Saved(CharModelOptions o)
    {
        var trainer = new CharTrainer(CharLanguageModel.Create(Text, o), Text);
        trainer.TrainStep();
        string path = Path.Combine(work, $"{Guid.NewGuid():N}.ckpt");
        trainer.Save(path);
        return path;
    }

    private static CharModelOptions Tiny(OptimizerKind kind) => new() { Hidden = 4, Layers = 1, SequenceLength = 5, Batch = 3, Seed = 2, Optimizer = kind };

    [Theory]
    [InlineData(OptimizerKind.Sgd, "sgd")]
    [InlineData(OptimizerKind.Momentum, "momentum")]
    [InlineData(OptimizerKind.Adam, "adam")]
    [InlineData(OptimizerKind.Adadelta, "adadelta")]
    public void EachKind_IsWrittenAsItsOldWord_AndReadBack(OptimizerKind kind, string word)
    {
        Assert.Equal(word, kind.Name());
        Assert.Equal(kind, OptimizerNames.Parse(word));
        string path = Saved(Tiny(kind));
        Assert.Equal(word, Checkpoint.Load(path).Metadata["optimizer"]);
        Assert.Equal(kind, CharTrainer.Resume(path, Text).Model.Options.Optimizer);
    }

    [Fact]
    public void TheDefault_IsAdam() => Assert.Equal(OptimizerKind.Adam, new CharModelOptions().Optimizer);

    [Theory]
    [InlineData("rmsprop")]
    [InlineData("Adam")]  // the words are lower case, as the CLI and every checkpoint wrote them
    [InlineData("")]
    public void AnUnknownWord_NamesTheAllowedOnes(string word)
    {
        var e = Assert.Throws<FormatException>(() => OptimizerNames.Parse(word));
        Assert.Contains("sgd, momentum, adam or adadelta", e.Message);

        string path = Saved(Tiny(OptimizerKind.Adam));
        Checkpoint c = Checkpoint.Load(path);
        c.Metadata["optimizer"] = word;
        c.Save(path);
        var bad = Assert.Throws<InvalidDataException>(() => CharTrainer.LoadModel(path));
        Assert.Contains("model options are malformed", bad.Message);
        Assert.Contains("sgd, momentum, adam or adadelta", bad.Message);
    }

    [Fact]
    public void AKindOutsideTheEnum_IsRefusedByValidation()
    {
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => new CharTrainer(CharLanguageModel.Create(Text, Tiny((OptimizerKind)7)), Text));
        Assert.Contains("sgd, momentum, adam or adadelta", e.Message);
    }

    [Fact]
    public void TheCellEntry_IsWrittenOnce_AndABadOneReadsAsBefore()
    {
        string gru = Saved(Tiny(OptimizerKind.Adam) with { Cell = CellKind.Gru });
        Checkpoint c = Checkpoint.Load(gru);
        Assert.Equal("2", c.Metadata["cell"]);
        Assert.Equal(CellKind.Gru, CharTrainer.LoadModel(gru).Options.Cell);

        c.Metadata["cell"] = "7"; // the message the model options gave when they parsed the entry themselves
        c.Save(gru);
        var e = Assert.Throws<InvalidDataException>(() => CharTrainer.LoadModel(gru));
        Assert.StartsWith("The checkpoint's model options are malformed: 'cell' is 7; expected 0 (Lstm), 1 (Rnn), 2 (Gru).", e.Message);
    }

    [Fact]
    public void ACheckpointWithoutTheCellEntry_LoadsAsAnLstm()
    {
        string path = Saved(Tiny(OptimizerKind.Sgd));
        Checkpoint c = Checkpoint.Load(path);
        c.Metadata.Remove("cell");
        c.Save(path);
        CharLanguageModel m = CharTrainer.LoadModel(path);
        Assert.Equal(CellKind.Lstm, m.Options.Cell);
        Assert.Equal(CellKind.Lstm, m.Network.Options.Cell);
    }
}
