using System.Diagnostics;

namespace Lstm.Cli.Tests;

/// <summary>Every command of the `lstm` CLI, end to end as a process, on tiny settings.</summary>
public sealed partial class CliTests : IDisposable
{
    private readonly string work = Directory.CreateTempSubdirectory("lstm-cli-").FullName;

    public void Dispose() => Directory.Delete(work, recursive: true);

    private static string CliPath()
    {
#if DEBUG
        const string Configuration = "Debug";
#else
        const string Configuration = "Release";
#endif
        return Path.Combine(Lstm.Tests.Shared.Repository.Root(), "src", "Lstm.Cli", "bin", Configuration, "net10.0", "lstm.dll");
    }

    private Process Start(params string[] args) => Start([], args);

    private Process Start(Dictionary<string, string> environment, string[] args, string? cli = null)
    {
        var psi = new ProcessStartInfo("dotnet") { WorkingDirectory = work, RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true };
        psi.ArgumentList.Add(cli ?? CliPath());
        foreach (string a in args) psi.ArgumentList.Add(a);
        psi.Environment["NO_COLOR"] = "1";
        foreach (var (k, v) in environment) psi.Environment[k] = v;
        return Process.Start(psi)!;
    }

    private (int Code, string Out) Run(params string[] args)
    {
        using Process p = Start(args);
        p.StandardInput.Close();
        Task<string> stderr = p.StandardError.ReadToEndAsync();
        string stdout = p.StandardOutput.ReadToEnd();
        Assert.True(p.WaitForExit(120_000), "the command did not finish in 2 minutes");
        return (p.ExitCode, stdout + stderr.Result);
    }

    private static readonly string[] Tiny = ["--hidden", "8", "--layers", "1", "--seq-len", "8", "--batch", "2", "--sample-every", "2"];

    [Fact]
    public void Train_OnTheDefaultCorpus_WritesACheckpointAndAPlot_AndResumeContinues()
    {
        var (code, output) = Run(["train", "--steps", "4", .. Tiny, "--out", "m.ckpt", "--plot", "l.png"]);
        Assert.True(code == 0, output);
        Assert.Contains("embedded default corpus", output);
        Assert.Contains("loss", output);
        Assert.True(File.Exists(Path.Combine(work, "m.ckpt")));
        byte[] png = File.ReadAllBytes(Path.Combine(work, "l.png"));
        Assert.Equal([0x89, (byte)'P', (byte)'N', (byte)'G'], png[..4]);

        (code, output) = Run(["train", "--steps", "2", .. Tiny, "--out", "m.ckpt", "--plot", "l.png", "--resume", "m.ckpt"]);
        Assert.True(code == 0, output);
        Assert.Contains("resume at step 4", output);

        (code, output) = Run("sample", "--model", "m.ckpt", "--prime", "The ", "--length", "30");
        Assert.True(code == 0, output);
        Assert.StartsWith("The ", output);
    }

    [Fact]
    public void Train_WithAGru_SavesResumesAndSamples()
    {
        var (code, output) = Run(["train", "--cell", "gru", "--steps", "4", .. Tiny, "--out", "g.ckpt", "--plot", "none"]);
        Assert.True(code == 0, output);
        Assert.Contains("1 × GRU(8)", output);
        (code, output) = Run(["train", "--steps", "2", .. Tiny, "--out", "g.ckpt", "--plot", "none", "--resume", "g.ckpt"]);
        Assert.True(code == 0, output);
        Assert.Contains("resume at step 4", output);
        Assert.Contains("GRU(8)", output);
        (code, output) = Run(["train", "--cell", "lstm", "--steps", "1", .. Tiny, "--out", "g.ckpt", "--plot", "none", "--resume", "g.ckpt"]);
        Assert.Equal(2, code);
        Assert.Contains("--cell lstm (the checkpoint has gru)", output);
        (code, output) = Run("sample", "--model", "g.ckpt", "--prime", "The ", "--length", "30");
        Assert.True(code == 0, output);
        Assert.StartsWith("The ", output);
    }

    [Fact]
    public void Run_APyTorchGru_WritesYAndHn_AndNoCn()
    {
        string fixtures = Path.Combine(Lstm.Tests.Shared.Repository.Root(), "tests", "Lstm.Core.Tests", "Fixtures", "gru");
        var a = Lstm.Core.NumPy.Npz.Read(Path.Combine(fixtures, "stack_bidir_f32.npz"));
        Lstm.Core.NumPy.Npy.Write(Path.Combine(work, "x.npy"), a["x"].ToSingle(), a["x"].Shape);
        Lstm.Core.NumPy.Npy.Write(Path.Combine(work, "h0.npy"), a["h0"].ToSingle(), a["h0"].Shape);
        string weights = Path.Combine(fixtures, "stack_bidir_state_dict.npz");
        var (code, output) = Run("run", "--weights", weights, "--input", "x.npy", "--h0", "h0.npy", "--out", "out");
        Assert.True(code == 0, output);
        Assert.Contains("GRU I = 6, H = 10, L = 2, D = 2", output);
        Assert.Contains("prefix 'gru.'", output);
        float[] y = Lstm.Core.NumPy.Npy.Read(Path.Combine(work, "out", "y.npy")).ToSingle(), hn = Lstm.Core.NumPy.Npy.Read(Path.Combine(work, "out", "hn.npy")).ToSingle();
        // float32 rounding only, as in GruPyTorchParityTests: 1e-5 relative to 1 + |value|.
        static double Worst(float[] got, double[] expected) => got.Zip(expected, (p, q) => Math.Abs(p - q) / (1 + Math.Abs(q))).Max();
        Assert.Equal(a["y"].Data.Length, y.Length);
        Assert.True(Worst(y, a["y"].Data) <= 1e-5, "y");
        Assert.True(Worst(hn, a["hn"].Data) <= 1e-5, "hn");
        Assert.False(File.Exists(Path.Combine(work, "out", "cn.npy")));

        (code, output) = Run("run", "--weights", weights, "--input", "x.npy", "--h0", "h0.npy", "--c0", "h0.npy", "--out", "out2");
        Assert.Equal(2, code);
        Assert.Contains("--c0: a GRU has no cell state", output);
    }

    [Fact]
    public void Train_KilledWhileSaving_AlwaysLeavesALoadableCheckpoint()
    {
        // A 2 × 256 model saves ~10 MB (weights and Adam state) after every step. Odd-numbered kills (all resumed runs)
        // strike mid-save, deterministically: the save path's test hook (AtomicFile) says when the temporary file is
        // written and pauses there before the rename. Even ones strike at a random moment once a checkpoint exists,
        // without the hook. After each, the checkpoint loads.
        string[] settings = ["--hidden", "256", "--layers", "2", "--seq-len", "2", "--batch", "1", "--sample-every", "1",
            "--max-seconds", "60", "--out", "k.ckpt", "--plot", "none"];
        string checkpoint = Path.Combine(work, "k.ckpt");
        var rng = new Random(7);
        int leftBehind = 0;
        for (int kill = 0; kill < 6; kill++)
        {
            bool midSave = kill % 2 == 1;
            using Process p = Start(midSave ? new() { ["LSTM_TEST_PAUSE_BEFORE_RENAME_MS"] = "60000" } : [],
                ["train", .. settings, "--steps", "100000", .. kill == 0 ? Array.Empty<string>() : ["--resume", "k.ckpt"]]);
            using var paused = new ManualResetEventSlim();
            string? temp = null;
            p.OutputDataReceived += (_, _) => { };
            p.ErrorDataReceived += (_, e) =>
            {
                const string Hook = "test hook: paused before rename of ";
                // Only a pause after the first checkpoint exists: killing before it would leave nothing to load.
                if (e.Data?.StartsWith(Hook, StringComparison.Ordinal) == true && File.Exists(checkpoint) && !paused.IsSet)
                {
                    temp = e.Data[Hook.Length..];
                    paused.Set();
                }
            };
            p.BeginOutputReadLine();
            p.BeginErrorReadLine();
            if (midSave)
            {
                while (!paused.Wait(100))
                {
                    Assert.False(p.HasExited, "training ended before it could be killed");
                }
                Assert.True(File.Exists(temp), $"the hook named {temp}, which does not exist");
            }
            else
            {
                var deadline = DateTime.UtcNow.AddSeconds(60);
                while (!File.Exists(checkpoint) && DateTime.UtcNow < deadline && !p.HasExited) Thread.Sleep(10);
                Assert.False(p.HasExited, "training ended before it could be killed");
                Thread.Sleep(rng.Next(500));
            }
            p.Kill(entireProcessTree: true);
            p.WaitForExit();
            leftBehind += midSave && File.Exists(temp) ? 1 : 0;

            Lstm.Experiments.CharModel.CharLanguageModel model = Lstm.Experiments.CharModel.CharTrainer.LoadModel(checkpoint);
            Assert.Equal(256, model.Options.Hidden);
        }
        Assert.Equal(3, leftBehind); // every paused save was killed mid-save and left its temporary file
        var (code, output) = Run(["train", .. settings, "--steps", "1", "--resume", "k.ckpt"]);
        Assert.True(code == 0, output);
        Assert.Contains("resume at step", output);
        Assert.Empty(Directory.EnumerateFiles(work, ".k.ckpt.tmp-*")); // the successful save removed the killed ones' litter
    }

    [Fact]
    public void Train_ThatDiverges_StopsWithAClearError_AndKeepsTheLastGoodCheckpoint()
    {
        string text = string.Concat(Enumerable.Repeat("abc ", 30));
        File.WriteAllText(Path.Combine(work, "t.txt"), text);
        var options = new Lstm.Experiments.CharModel.CharModelOptions { Hidden = 8, Layers = 1, SequenceLength = 8, Batch = 2 };
        var trainer = new Lstm.Experiments.CharModel.CharTrainer(Lstm.Experiments.CharModel.CharLanguageModel.Create(text, options), text);
        string checkpoint = Path.Combine(work, "nan.ckpt");
        trainer.Save(checkpoint);
        // CharTrainer.Save refuses NaN (tested in Lstm.Core.Tests); a file from elsewhere may still hold one.
        var poisoned = Lstm.Core.Training.Checkpoint.Load(checkpoint);
        poisoned.Tensors["net.weight_hh_l0"][0] = float.NaN;
        poisoned.Save(checkpoint);
        byte[] before = File.ReadAllBytes(checkpoint);

        var (code, output) = Run(["train", "--text", "t.txt", "--resume", "nan.ckpt", "--out", "nan.ckpt", "--steps", "5", "--sample-every", "1", .. Tiny[..^2]]);
        Assert.Equal(3, code);
        Assert.Contains("diverged", output);
        Assert.Contains("last good checkpoint is kept", output);
        Assert.Equal(before, File.ReadAllBytes(checkpoint));
    }

    [Fact]
    public void Train_OnAGivenText()
    {
        File.WriteAllText(Path.Combine(work, "t.txt"), string.Concat(Enumerable.Repeat("hello world. ", 20)));
        var (code, output) = Run(["train", "--text", "t.txt", "--steps", "3", .. Tiny, "--out", "t.ckpt", "--plot", "t.png"]);
        Assert.True(code == 0, output);
        Assert.Contains("t.txt", output);
        Assert.Contains("9 distinct", output); // "helo wrd." 
    }

    [Theory]
    [InlineData("safetensors", false)]
    [InlineData("npz", true)]
    public void Run_APyTorchFixture_WritesTheSameOutputsAsPyTorch(string format, bool batchFirst)
    {
        var (a, weights) = WriteFixture(format, batchFirst);
        int[] x = a["x"].Shape; // [T, B, I]

        var (code, output) = Run(["run", "--weights", weights, "--input", "x.npy", "--h0", "h0.npy", "--c0", "c0.npy", "--out", "out", .. batchFirst ? new[] { "--batch-first" } : []]);
        Assert.True(code == 0, output);
        Assert.Contains("prefix 'lstm.'", output);
        float[] y = Lstm.Core.NumPy.Npy.Read(Path.Combine(work, "out", "y.npy")).ToSingle();
        float[] cn = Lstm.Core.NumPy.Npy.Read(Path.Combine(work, "out", "cn.npy")).ToSingle();
        double[] expectedY = a["y"].Data;
        int outWidth = a["y"].Shape[2];
        for (int t = 0; t < x[0]; t++)
        {
            for (int b = 0; b < x[1]; b++)
            {
                for (int j = 0; j < outWidth; j++)
                {
                    double e = expectedY[(((t * x[1]) + b) * outWidth) + j];
                    double got = y[((batchFirst ? (b * x[0]) + t : (t * x[1]) + b) * outWidth) + j];
                    Assert.True(Math.Abs(got - e) <= 1e-5 * (1 + Math.Abs(e)), $"y[{t},{b},{j}] = {got} vs {e}"); // float32 rounding only
                }
            }
        }
        Assert.Equal(a["cn"].Data.Length, cn.Length);
    }

    // The PyTorch fixture's stacked bidirectional LSTM as a state_dict under "lstm." (plus extra keys, if given), and
    // x.npy, h0.npy, c0.npy in the work folder.
    private (Dictionary<string, Lstm.Core.NumPy.NpyArray> Fixture, string Weights) WriteFixture(string format, bool batchFirst, params string[] extraKeys)
    {
        string shared = Lstm.Tests.Shared.Repository.Shared();
        var a = Lstm.Core.NumPy.Npz.Read(Path.Combine(shared, "fixtures", "pytorch-lstm", "stack_bidir_f32.npz"));
        var sd = a.Where(kv => kv.Key.StartsWith("weight_", StringComparison.Ordinal) || kv.Key.StartsWith("bias_", StringComparison.Ordinal))
            .Select(kv => new Lstm.Core.Interop.NamedTensor("lstm." + kv.Key, kv.Value.Shape, kv.Value.ToSingle(), "F32")).ToList();
        sd.AddRange(extraKeys.Select(k => new Lstm.Core.Interop.NamedTensor(k, [2], [1f, 2f], "F32")));
        string weights = Path.Combine(work, "w." + format);
        if (format == "npz") Lstm.Core.NumPy.Npz.Write(weights, sd.Select(t => (t.Name, t.Data, t.Shape)));
        else Lstm.Core.Interop.SafeTensors.Write(weights, sd);
        int[] x = a["x"].Shape; // [T, B, I]
        float[] xs = a["x"].ToSingle();
        if (batchFirst)
        {
            float[] swapped = new float[xs.Length];
            for (int t = 0; t < x[0]; t++)
                for (int b = 0; b < x[1]; b++)
                    Array.Copy(xs, ((t * x[1]) + b) * x[2], swapped, ((b * x[0]) + t) * x[2], x[2]);
            xs = swapped;
        }
        void Save(string name, float[] data, int[] shape) => Lstm.Core.NumPy.Npy.Write(Path.Combine(work, name), data, shape);
        Save("x.npy", xs, batchFirst ? [x[1], x[0], x[2]] : x);
        Save("h0.npy", a["h0"].ToSingle(), a["h0"].Shape);
        Save("c0.npy", a["c0"].ToSingle(), a["c0"].Shape);
        return (a, weights);
    }

    [Fact]
    public void Run_WithAWeightFormat_GivesThatNetworksOutputs_AndRefusesRoundingTwice()
    {
        var o = new Lstm.Core.RecurrentOptions(12, 16, Layers: 2);
        var net = Lstm.Core.RecurrentNetwork.Create(o, seed: 4);
        string full = Path.Combine(work, "full.safetensors"), small = Path.Combine(work, "int8.safetensors");
        Lstm.Core.Interop.PyTorchImport.Export(net, full);
        Lstm.Core.Interop.PyTorchImport.Export(net.WithWeightFormat(Lstm.Simd.WeightFormat.Int8), small);
        float[] x = [.. Enumerable.Range(0, 5 * 2 * 12).Select(i => MathF.Sin(i))];
        Lstm.Core.NumPy.Npy.Write(Path.Combine(work, "x.npy"), x, [5, 2, 12]);

        var (code, output) = Run("run", "--weights", full, "--input", "x.npy", "--out", "q", "--weight-format", "int8");
        Assert.True(code == 0, output);
        Assert.Contains("int8 weights", output);
        float[] expected = net.WithWeightFormat(Lstm.Simd.WeightFormat.Int8).Forward(x, 5, 2).Output;
        Assert.Equal(expected, Lstm.Core.NumPy.Npy.Read(Path.Combine(work, "q", "y.npy")).ToSingle());

        (code, output) = Run("run", "--weights", small, "--input", "x.npy", "--out", "s"); // the file's own format
        Assert.True(code == 0, output);
        Assert.Contains("int8 weights", output);
        Assert.Equal(expected, Lstm.Core.NumPy.Npy.Read(Path.Combine(work, "s", "y.npy")).ToSingle());

        (code, output) = Run("run", "--weights", small, "--input", "x.npy", "--out", "t", "--weight-format", "float16");
        Assert.Equal(2, code);
        Assert.Contains("round twice", output);

        // lstm convert writes the same file as PyTorchImport.Export of the converted network.
        (code, output) = Run("convert", "--weights", full, "--weight-format", "int8", "--out", "converted.safetensors");
        Assert.True(code == 0, output);
        Assert.Equal(File.ReadAllBytes(small), File.ReadAllBytes(Path.Combine(work, "converted.safetensors")));
        (code, output) = Run("convert", "--weights", full, "--weight-format", "int4", "--out", "x.safetensors");
        Assert.NotEqual(0, code);
        Assert.Contains("int4", output);
    }

    [Fact]
    public void Experiment_RunsBothModels_AndPrintsTheTable()
    {
        var (code, output) = Run("experiment", "adding", "--trials", "1", "--budget", "30", "--length", "20");
        Assert.True(code == 0, output);
        Assert.Contains("LSTM", output);
        Assert.Contains("Elman RNN", output);
        Assert.Contains("full BPTT", output);
        Assert.Contains("74,000", output);
    }

    [Fact]
    public void Verify_PassesOnThisCpu()
    {
        var (code, output) = Run("verify", "--stride", "8191");
        Assert.True(code == 0, output);
        Assert.Contains("all bounds hold", output);
        Assert.Contains("gradient check", output);
        Assert.Contains("int8 GEMM", output);
        Assert.Contains("BFloat16 GEMM", output);
    }

    [Fact]
    public void Bench_PrintsATable()
    {
        var (code, output) = Run("bench", "--seconds", "0.01");
        Assert.True(code == 0, output);
        Assert.Contains("µs per step", output);
        Assert.Contains("bfloat16", output);
        Assert.Contains("rms error", output);
    }

    [Fact]
    public void Bench_Tiny_RunsEveryPathAtSmallSizesOnly()
    {
        // What .ci/run's emulated ARM64 run uses: the default sizes take minutes there.
        var (code, output) = Run("bench", "--tiny", "--seconds", "0.01");
        Assert.True(code == 0, output);
        Assert.Contains("I = H = 16", output);
        Assert.Contains("H = I = 32", output);
        Assert.DoesNotContain("I = H = 256", output);
        Assert.DoesNotContain("H = I = 256", output);
        Assert.All(Lstm.Simd.SimdPaths.Available, p => Assert.Contains(Lstm.Simd.SimdPaths.Name(p), output));
    }

    [Theory]
    [InlineData("train")]
    [InlineData("sample")]
    [InlineData("experiment")]
    [InlineData("verify")]
    [InlineData("bench")]
    [InlineData("run")]
    [InlineData("convert")]
    [InlineData("export")]
    public void EveryCommand_HasHelp(string command)
    {
        var (code, output) = Run(command, "--help");
        Assert.Equal(0, code);
        Assert.Contains("Usage:", output);
    }

    [Theory]
    [InlineData("train --steps -1", "--steps")]
    [InlineData("train --optimizer rmsprop", "rmsprop")]
    [InlineData("sample", "--model")]
    [InlineData("sample --model missing.ckpt", "missing.ckpt")]
    [InlineData("experiment nonsense", "nonsense")]
    [InlineData("verify --stride 0", "--stride")]
    [InlineData("frobnicate", "frobnicate")]
    [InlineData("run --weights none.safetensors --input x.npy --out o", "none.safetensors")]
    public void BadArguments_GiveAClearMessage_AndANonZeroExitCode(string args, string mentioned)
    {
        var (code, output) = Run(args.Split(' '));
        Assert.Equal(2, code);
        Assert.Contains(mentioned, output);
    }
}
