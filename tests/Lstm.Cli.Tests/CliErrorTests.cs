using System.Diagnostics;
using System.Text.RegularExpressions;

namespace Lstm.Cli.Tests;

/// <summary>What the user gets wrong: exit 2, one line naming the option, no stack trace, and no work lost.</summary>
public sealed partial class CliTests
{
    private static void AssertOneLineError(int code, string output, string mentioned)
    {
        Assert.True(code == 2, $"exit {code}: {output}");
        Assert.Contains(mentioned, output);
        Assert.Single(Regex.Matches(output, "error:"));
        Assert.DoesNotContain("   at ", output); // a stack trace
    }

    // "{dir}" is a directory, "{junk}" a regular file; the work folder holds both.
    [Theory]
    [InlineData("train --text {dir}", "--text")]
    [InlineData("train --text missing.txt", "missing.txt")]
    [InlineData("train --text /dev/stdin", "--text")]
    [InlineData("train --resume {dir}", "--resume")]
    [InlineData("train --out {dir}", "--out")]
    [InlineData("train --out /proc/lstm.ckpt", "--out")]
    [InlineData("train --out {junk}/m.ckpt", "--out")]
    [InlineData("train --plot /proc/loss.png", "--plot")]
    [InlineData("train --plot {dir}", "--plot")]
    [InlineData("train --lr NaN", "--lr")]
    [InlineData("train --lr 0", "--lr")]
    [InlineData("train --dropout 2", "--dropout")]
    [InlineData("train --dropout NaN", "--dropout")]
    [InlineData("train --clip NaN", "--clip")]
    [InlineData("train --decay-factor Infinity", "--decay-factor")]
    [InlineData("train --max-seconds NaN", "--max-seconds")]
    [InlineData("sample --model {dir}", "--model")]
    [InlineData("sample --model /dev/stdin", "--model")]
    [InlineData("sample --model {junk} --temperature Infinity", "--temperature")]
    [InlineData("sample --model {junk} --temperature NaN", "--temperature")]
    [InlineData("sample --model {junk}", "junk")]
    [InlineData("run --weights {dir} --input {junk} --out o", "--weights")]
    [InlineData("run --weights /dev/stdin --input {junk} --out o", "--weights")]
    [InlineData("run --weights {junk} --input {dir} --out o", "--input")]
    [InlineData("run --weights {junk} --input /dev/stdin --out o", "--input")]
    [InlineData("run --weights {junk} --input {junk} --h0 {dir} --c0 {junk} --out o", "--h0")]
    [InlineData("run --weights {junk} --input {junk} --h0 {junk} --c0 {dir} --out o", "--c0")]
    [InlineData("run --weights {junk} --input {junk} --out {junk}", "--out")]
    [InlineData("run --weights {junk} --input {junk} --out /proc/out", "--out")]
    [InlineData("run --weights {junk} --input {junk} --out o", "junk")]
    [InlineData("bench --seconds Infinity", "--seconds")]
    public void BadFilesAndValues_ExitTwo_WithOneLine_AndNoStackTrace(string args, string mentioned)
    {
        Directory.CreateDirectory(Path.Combine(work, "dir"));
        File.WriteAllText(Path.Combine(work, "junk"), "not any format this program reads\n");
        string[] argv = [.. args.Split(' ').Select(a => a.Replace("{dir}", "dir", StringComparison.Ordinal).Replace("{junk}", "junk", StringComparison.Ordinal))];
        if (argv[0] == "train") argv = [.. argv, .. Tiny, "--steps", "3"];
        var (code, output) = Run(argv);
        AssertOneLineError(code, output, mentioned);
        Assert.False(File.Exists(Path.Combine(work, "lstm-model.ckpt")), "training ran before the arguments were checked");
    }

    [Theory]
    [InlineData("sample --model fifo", "--model fifo")]
    [InlineData("train --text fifo --steps 1", "--text fifo")]
    [InlineData("run --weights fifo --input fifo --out o", "--weights fifo")]
    public void AFifoWithNoWriter_IsRefusedAtOnce_InsteadOfBlocking(string args, string mentioned)
    {
        using (var mkfifo = Process.Start("mkfifo", Path.Combine(work, "fifo")))
        {
            mkfifo.WaitForExit();
            Assert.Equal(0, mkfifo.ExitCode);
        }
        var (code, output) = Run(args.Split(' '));
        AssertOneLineError(code, output, mentioned);
        Assert.Contains("FIFO", output);
    }

    [Fact]
    public void Train_Resume_WithOptionsThatDifferFromTheCheckpoint_IsRefused_NamingThem()
    {
        var (code, output) = Run(["train", "--steps", "2", .. Tiny, "--out", "m.ckpt", "--plot", "none"]);
        Assert.True(code == 0, output);
        byte[] before = File.ReadAllBytes(Path.Combine(work, "m.ckpt"));

        (code, output) = Run("train", "--steps", "2", "--hidden", "16", "--layers", "1", "--seq-len", "8", "--batch", "2", "--lr", "0.1",
            "--out", "m.ckpt", "--plot", "none", "--resume", "m.ckpt");
        AssertOneLineError(code, output, "--hidden 16 (the checkpoint has 8)");
        Assert.Contains("--lr 0.1", output);
        Assert.Equal(before, File.ReadAllBytes(Path.Combine(work, "m.ckpt")));
    }

    [Fact]
    public void Train_Resume_WithAnotherOptimizer_IsRefused_NamingBothWords()
    {
        var (code, output) = Run(["train", "--steps", "1", .. Tiny, "--optimizer", "momentum", "--out", "m.ckpt", "--plot", "none"]);
        Assert.True(code == 0, output);
        Assert.Contains("momentum, lr", output); // the settings table names the optimizer by its word

        (code, output) = Run(["train", "--steps", "1", .. Tiny, "--optimizer", "adadelta", "--out", "m.ckpt", "--plot", "none", "--resume", "m.ckpt"]);
        AssertOneLineError(code, output, "--optimizer adadelta (the checkpoint has momentum)");
    }

    [Fact]
    public void Train_PlotNone_WritesNoPlot()
    {
        var (code, output) = Run(["train", "--steps", "2", .. Tiny, "--out", "m.ckpt", "--plot", "none"]);
        Assert.True(code == 0, output);
        Assert.True(File.Exists(Path.Combine(work, "m.ckpt")));
        Assert.False(File.Exists(Path.Combine(work, "none")));
        Assert.Empty(Directory.EnumerateFiles(work, "*.png"));
    }

    [Fact]
    public void Sample_FromACheckpointWithNaNWeights_ExitsTwo_InsteadOfPrintingGarbage()
    {
        string text = string.Concat(Enumerable.Repeat("abc ", 30));
        var options = new Lstm.Experiments.CharModel.CharModelOptions { Hidden = 8, Layers = 1, SequenceLength = 8, Batch = 2 };
        var trainer = new Lstm.Experiments.CharModel.CharTrainer(Lstm.Experiments.CharModel.CharLanguageModel.Create(text, options), text);
        string checkpoint = Path.Combine(work, "nan.ckpt");
        trainer.Save(checkpoint);
        var poisoned = Lstm.Core.Training.Checkpoint.Load(checkpoint);
        poisoned.Tensors["net.weight_ih_l0"].AsSpan().Fill(float.NaN);
        poisoned.Save(checkpoint);

        var (code, output) = Run("sample", "--model", "nan.ckpt", "--length", "20");
        AssertOneLineError(code, output, "not finite");
    }

    [Fact]
    public void Run_H0WithoutC0_IsRefused_ForAnLstm()
    {
        var (_, weights) = WriteFixture("safetensors", false);
        var (code, output) = Run("run", "--weights", weights, "--input", "x.npy", "--h0", "h0.npy", "--out", "out");
        AssertOneLineError(code, output, "--h0 without --c0");
        (code, output) = Run("run", "--weights", weights, "--input", "x.npy", "--c0", "c0.npy", "--out", "out");
        AssertOneLineError(code, output, "--c0 without --h0");
    }

    [Fact]
    public void Run_H0WithTheRightCountButTheWrongShape_IsRefused()
    {
        var (a, weights) = WriteFixture("safetensors", false);
        int[] s = a["h0"].Shape; // [D·L, B, H]
        Lstm.Core.NumPy.Npy.Write(Path.Combine(work, "h0t.npy"), a["h0"].ToSingle(), [s[1], s[0], s[2]]);
        var (code, output) = Run("run", "--weights", weights, "--input", "x.npy", "--h0", "h0t.npy", "--c0", "c0.npy", "--out", "out");
        AssertOneLineError(code, output, $"--h0 is [{s[1]}, {s[0]}, {s[2]}]; expected [{s[0]}, {s[1]}, {s[2]}]");
    }

    [Fact]
    public void Run_ListsTheKeysOfOtherModulesItIgnored()
    {
        var (_, weights) = WriteFixture("safetensors", false, "decoder.weight", "embedding.weight");
        var (code, output) = Run("run", "--weights", weights, "--input", "x.npy", "--out", "out");
        Assert.True(code == 0, output);
        Assert.Contains("ignored 2 key(s) outside 'lstm.': decoder.weight, embedding.weight", output);
    }

    [Fact]
    public void Run_ATrainingCheckpointAsWeights_SaysWhatItIs()
    {
        WriteFixture("safetensors", false);
        var (code, output) = Run(["train", "--steps", "1", .. Tiny, "--out", "m.ckpt", "--plot", "none"]);
        Assert.True(code == 0, output);
        (code, output) = Run("run", "--weights", "m.ckpt", "--input", "x.npy", "--out", "out");
        AssertOneLineError(code, output, "is an `lstm train` checkpoint, not a PyTorch state_dict");
    }

    [Fact]
    public void Run_CheckFinite_NamesTheFirstNaN_AndWithoutItNaNPropagates()
    {
        var (a, weights) = WriteFixture("safetensors", false);
        float[] x = a["x"].ToSingle();
        int inputs = a["x"].Shape[2];
        x[(1 * a["x"].Shape[1] * inputs) + 2] = float.NaN; // step 1, batch row 0, input 2
        Lstm.Core.NumPy.Npy.Write(Path.Combine(work, "xnan.npy"), x, a["x"].Shape);

        var (code, output) = Run("run", "--weights", weights, "--input", "xnan.npy", "--out", "out", "--check-finite");
        AssertOneLineError(code, output, "x is NaN at layer 0, direction 0, step 1, batch row 0");
        Assert.False(File.Exists(Path.Combine(work, "out", "y.npy")));

        (code, output) = Run("run", "--weights", weights, "--input", "xnan.npy", "--out", "out");
        Assert.True(code == 0, output);
        Assert.Contains(Lstm.Core.NumPy.Npy.Read(Path.Combine(work, "out", "y.npy")).ToSingle(), float.IsNaN);
    }

    [Fact]
    public void Train_WithoutTheNativePlotLibrary_SaysSoAtStartup()
    {
        // A copy of the CLI whose libSkiaSharp.so is an empty file, as in a NativeAOT binary shipped without it.
        string app = Path.Combine(work, "app");
        string bin = Path.GetDirectoryName(CliPath())!;
        foreach (string file in Directory.EnumerateFiles(bin, "*", SearchOption.AllDirectories))
        {
            string rel = Path.GetRelativePath(bin, file), to = Path.Combine(app, rel);
            Directory.CreateDirectory(Path.GetDirectoryName(to)!);
            if (Path.GetFileName(file) == "libSkiaSharp.so") File.WriteAllBytes(to, []);
            else if (rel.StartsWith("lstm.", StringComparison.Ordinal)) File.Copy(file, to);
            else File.CreateSymbolicLink(to, file);
        }
        string cli = Path.Combine(app, "lstm.dll");
        (int Code, string Out) RunCopy(params string[] args)
        {
            using var p = Start([], args, cli);
            p.StandardInput.Close();
            Task<string> stderr = p.StandardError.ReadToEndAsync();
            string stdout = p.StandardOutput.ReadToEnd();
            Assert.True(p.WaitForExit(120_000));
            return (p.ExitCode, stdout + stderr.Result);
        }

        var (code, output) = RunCopy(["train", "--steps", "2", .. Tiny, "--out", "a.ckpt", "--plot", "asked.png"]);
        AssertOneLineError(code, output, "--plot asked.png: plotting is unavailable");
        Assert.Contains("--plot none", output);
        Assert.False(File.Exists(Path.Combine(work, "a.ckpt")), "training ran before the plot was checked");

        (code, output) = RunCopy(["train", "--steps", "2", .. Tiny, "--out", "b.ckpt"]);
        Assert.True(code == 0, output);
        Assert.Contains("note: no loss plot", output);
        Assert.True(File.Exists(Path.Combine(work, "b.ckpt")));
        Assert.False(File.Exists(Path.Combine(work, "loss.png")));

        (code, output) = RunCopy(["train", "--steps", "2", .. Tiny, "--out", "c.ckpt", "--plot", "none"]);
        Assert.True(code == 0, output);
        Assert.DoesNotContain("note: no loss plot", output);
    }
}
