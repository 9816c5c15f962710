
namespace Lstm.Experiments.Tests;

/// <summary>
/// Issue 13, items 9 and 12: a checkpoint with a valid hash but nonsense inside is refused when it is read, with
/// <see cref="InvalidDataException"/>, before anything is sized by it.
/// </summary>
public sealed class CharCheckpointTests : IDisposable
{
    private const string Text = "the forget gate keeps the cell. the input gate writes it. ";
    private readonly string work = Directory.CreateTempSubdirectory("lstm-ckpt-check-").FullName;
    private readonly string path;

    public CharCheckpointTests()
    {
        var o = new CharModelOptions { Hidden = 4, Layers = 2, SequenceLength = 5, Batch = 3, Optimizer = OptimizerKind.Adam, Seed = 2 };
        var trainer = new CharTrainer(CharLanguageModel.Create(Text, o), Text);
        trainer.TrainStep();
        path = Path.Combine(work, "good.ckpt");
        trainer.Save(path);
    }

    public void Dispose() => Directory.Delete(work, recursive: true);

    private string Altered(Action<Checkpoint> change)
    {
        Checkpoint c = Checkpoint.Load(path);
        change(c);
        string altered = Path.Combine(work, $"altered-{Guid.NewGuid():N}.ckpt");
        c.Save(altered); // a fresh, valid hash: only the content is wrong
        return altered;
    }

    [Fact]
    public void TheGoodCheckpoint_LoadsAndResumes()
    {
        Assert.Equal(4, CharTrainer.LoadModel(path).Options.Hidden);
        Assert.Equal(1, CharTrainer.Resume(path, Text).Step);
    }

    [Theory]
    [InlineData("hidden", "99999999999")]   // was OverflowException
    [InlineData("hidden", "0")]
    [InlineData("layers", "-1")]
    [InlineData("layers", "1000000000")]
    [InlineData("dropout", "5")]
    [InlineData("dropout", "NaN")]
    [InlineData("batch", "0")]
    [InlineData("batch", "4")]
    [InlineData("sequenceLength", "100000")]
    [InlineData("learningRate", "NaN")]
    [InlineData("optimizer", "rmsprop")]
    [InlineData("vocabulary", "")]
    [InlineData("positions", "-5,0,1")]
    [InlineData("positions", "99999999999,0,1")]
    [InlineData("positions", "0,1")]
    [InlineData("positions", "0,1,x")]
    [InlineData("step", "-1")]
    [InlineData("optimizerSteps", "99999999999999999999999")]
    [InlineData("textLength", "3")]
    public void BadMetadata_IsRefusedWhenRead(string key, string value)
    {
        string bad = Altered(c => c.Metadata[key] = value);
        Assert.Throws<InvalidDataException>(() => CharTrainer.Resume(bad, Text));
    }

    [Fact]
    public void ADuplicatedVocabularyCharacter_IsRefused()
    {
        string bad = Altered(c => c.Metadata["vocabulary"] = c.Metadata["vocabulary"][..^1] + c.Metadata["vocabulary"][0]);
        Assert.Throws<InvalidDataException>(() => CharTrainer.LoadModel(bad)); // was ArgumentException from the index
    }

    [Theory]
    [InlineData("state.h")]
    [InlineData("state.c")]
    [InlineData("opt.0.0")]
    [InlineData("opt.9.1")]
    [InlineData("net.bias_hh_l1")]
    [InlineData("head.bias")]
    public void AShortTensor_IsRefusedWhenRead(string name)
    {
        string bad = Altered(c => c.Tensors[name] = c.Tensors[name][1..]);
        Assert.Throws<InvalidDataException>(() => CharTrainer.Resume(bad, Text));
    }

    [Theory]
    [InlineData("opt.3.1")]
    [InlineData("state.c")]
    public void AMissingTensor_OrAnExtraOne_IsRefused(string name)
    {
        Assert.Throws<InvalidDataException>(() => CharTrainer.Resume(Altered(c => c.Tensors.Remove(name)), Text));
        Assert.Throws<InvalidDataException>(() => CharTrainer.Resume(Altered(c => c.Tensors["opt.99.0"] = [1f]), Text));
    }

    [Fact]
    public void AHugeHiddenSize_OverEmptyTensors_IsRefusedBeforeAllocating()
    {
        // 4H × H = 2,147,395,600 floats fits one array: the old LoadModel allocated 8.6 GB before comparing lengths.
        string bad = Altered(c =>
        {
            c.Metadata["hidden"] = "23170";
            c.Metadata["layers"] = "1";
            foreach (string name in c.Tensors.Keys.ToList()) c.Tensors[name] = [];
        });
        long before = GC.GetAllocatedBytesForCurrentThread();
        Assert.Throws<InvalidDataException>(() => CharTrainer.LoadModel(bad));
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.True(allocated < 1 << 20, $"allocated {allocated:N0} bytes");
    }
}
