
namespace Lstm.Experiments.Tests;

/// <summary>Issue 14: a checkpoint carries the network's cell options; older checkpoints (without them) load as before.</summary>
public sealed class FamilyCheckpointTests : IDisposable
{
    private const string Text = "the forget gate keeps the cell. the input gate writes it. ";
    private readonly string work = Directory.CreateTempSubdirectory("lstm-family-ckpt-").FullName;
    private readonly string path;

    public FamilyCheckpointTests()
    {
        var o = new CharModelOptions { Hidden = 4, Layers = 2, SequenceLength = 5, Batch = 3, Seed = 2 };
        var trainer = new CharTrainer(CharLanguageModel.Create(Text, o), Text);
        trainer.TrainStep();
        path = Path.Combine(work, "good.ckpt");
        trainer.Save(path);
    }

    public void Dispose() => Directory.Delete(work, recursive: true);

    private Checkpoint Altered(Action<Checkpoint> change)
    {
        Checkpoint c = Checkpoint.Load(path);
        change(c);
        string altered = Path.Combine(work, $"altered-{Guid.NewGuid():N}.ckpt");
        c.Save(altered);
        return Checkpoint.Load(altered);
    }

    [Fact]
    public void SavedCheckpoint_NamesTheNetworkOptions_AndLoadsThem()
    {
        Checkpoint c = Checkpoint.Load(path);
        Assert.Equal("0", c.Metadata["cell"]);
        Assert.Equal("0", c.Metadata["nonlinearity"]);
        Assert.Equal("true", c.Metadata["bias"]);
        Assert.Equal("true", c.Metadata["linearBeforeReset"]);
        Assert.Equal("0", c.Metadata["projectionSize"]);
        Assert.Equal(new RecurrentOptions(CharTrainer.LoadModel(c).Vocabulary.Length, 4, 2), CharTrainer.LoadModel(c).Network.Options);
    }

    [Fact]
    public void ACheckpointWithoutTheKeys_LoadsAsAnLstmWithBias()
    {
        Checkpoint old = Altered(c =>
        {
            foreach (string k in new[] { "cell", "nonlinearity", "bias", "linearBeforeReset", "projectionSize" }) c.Metadata.Remove(k);
        });
        CharLanguageModel m = CharTrainer.LoadModel(old);
        Assert.Equal(CellKind.Lstm, m.Network.Options.Cell);
        Assert.True(m.Network.Options.Bias);
        Assert.Equal(1, CharTrainer.Resume(old, Text).Step);
    }

    [Fact]
    public void BiasFalse_RoundTrips_WithoutBiasTensors()
    {
        Checkpoint noBias = Altered(c =>
        {
            c.Metadata["bias"] = "false";
            foreach (string k in c.Tensors.Keys.Where(k => k.StartsWith("net.bias_", StringComparison.Ordinal)).ToList()) c.Tensors.Remove(k);
            c.Metadata.Remove("step"); // no optimizer state for the removed tensors: load the model only
        });
        CharLanguageModel m = CharTrainer.LoadModel(noBias);
        Assert.False(m.Network.Options.Bias);
        Assert.DoesNotContain(m.Network.ParameterInfos, i => i.Name.StartsWith("bias_", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("cell", "7", "'cell' is 7")]
    [InlineData("nonlinearity", "1", "Nonlinearity")]     // ReLU on an LSTM
    [InlineData("nonlinearity", "x", "'nonlinearity' is not a valid number")]
    [InlineData("bias", "yes", "'bias' is 'yes'")]
    [InlineData("projectionSize", "-2", "'projectionSize' is -2")]
    [InlineData("projectionSize", "2", "a char-lm model has none")]
    public void BadNetworkOptions_AreInvalidData(string key, string value, string message)
    {
        Checkpoint bad = Altered(c => c.Metadata[key] = value);
        var e = Assert.Throws<InvalidDataException>(() => CharTrainer.LoadModel(bad));
        Assert.Contains(message, e.Message);
    }

    [Fact]
    public void BiasFalseWithBiasTensors_IsInvalidData()
    {
        Checkpoint bad = Altered(c => c.Metadata["bias"] = "false");
        Assert.Throws<InvalidDataException>(() => CharTrainer.Resume(bad, Text));
    }
}
