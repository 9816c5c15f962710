using System.CommandLine;
using Lstm.Core;
using Lstm.Core.Interop;
using Lstm.Core.NumPy;
using Spectre.Console;

namespace Lstm.Cli;

/// <summary>
/// `lstm run`: a PyTorch recurrent module's weights (nn.LSTM, nn.GRU, nn.RNN, or a cell module run over the sequence)
/// and an input array in, y, hn and (LSTM) cn out, as .npy files.
/// </summary>
public static class RunCommand
{
    public static Command Create()
    {
        var weights = new Option<FileInfo>("--weights") { Description = "state_dict as .safetensors or .npz (numpy.savez of the tensors), or an .onnx model (one LSTM, GRU or RNN node).", Required = true };
        var node = new Option<string?>("--node") { Description = "ONNX only: the recurrent node to run, by name, when the model has several." };
        var input = new Option<FileInfo>("--input") { Description = "x.npy: [T, B, I], or [B, T, I] with --batch-first; float32 or float64.", Required = true };
        var h0 = new Option<FileInfo?>("--h0") { Description = "h0.npy [D·L, B, H] (default zeros; an LSTM needs --c0 with it)." };
        var c0 = new Option<FileInfo?>("--c0") { Description = "c0.npy [D·L, B, H] (default zeros; LSTM only, with --h0)." };
        var batchFirst = new Option<bool>("--batch-first") { Description = "Input and output are [B, T, ·]." };
        var checkFinite = new Option<bool>("--check-finite") { Description = "Fail (exit 2) at the first NaN or infinity in the weights, the inputs or any h and c, naming where." };
        var output = new Option<DirectoryInfo>("--out") { Description = "Directory for y.npy, hn.npy and cn.npy.", Required = true };
        var format = WeightFormats.Option("Run with W_ih and W_hh in this format (default: as stored in --weights).");
        var nonlinearity = new Option<string>("--nonlinearity")
        {
            Description = "An RNN's activation, tanh (default) or relu: a state_dict holds the same tensors for both, so it cannot say.",
            DefaultValueFactory = _ => "tanh",
        };
        nonlinearity.AcceptOnlyFromAmong("tanh", "relu");
        var prefix = new Option<string?>("--prefix") { Description = "The key prefix of the module to run (such as encoder.rnn.) when the file holds several." };
        var lengths = new Option<FileInfo?>("--lengths")
        {
            Description = "lengths.npy: int64 (or int32) [B], each row's valid steps (PyTorch's pack_padded_sequence; an ONNX node's sequence_lens): outputs past a row's length are 0, hn/cn are its state at its last valid step.",
        };
        var command = new Command("run", "Run a PyTorch LSTM's, GRU's or RNN's weights (or a cell module's), or an ONNX model's recurrent node, on an input array.")
        {
            weights, node, input, h0, c0, lengths, batchFirst, checkFinite, output, format, nonlinearity, prefix,
        };
        command.SetAction(parse =>
        {
            FileInfo? h0File = parse.GetValue(h0), c0File = parse.GetValue(c0);
            string weightsPath = Usage.ReadableFile(parse.GetValue(weights)!, "--weights");
            string inputPath = Usage.ReadableFile(parse.GetValue(input)!, "--input");
            string? h0Path = h0File is null ? null : Usage.ReadableFile(h0File, "--h0");
            string? c0Path = c0File is null ? null : Usage.ReadableFile(c0File, "--c0");
            string? lengthsPath = parse.GetValue(lengths) is { } lengthsFile ? Usage.ReadableFile(lengthsFile, "--lengths") : null;
            RefuseCheckpoint(weightsPath, parse.GetValue(weights)!);
            string outDir = Usage.WritableDirectory(parse.GetValue(output)!, "--out");
            if (OnnxRun.IsOnnx(weightsPath))
            {
                return OnnxRun.Run(new OnnxRun.Request(weightsPath, parse.GetValue(node), inputPath, h0Path, c0Path, lengthsPath,
                    parse.GetValue(batchFirst), parse.GetValue(checkFinite), parse.GetValue(format), outDir));
            }
            Usage.Require(parse.GetValue(node) is null, "--node applies to ONNX models (--weights model.onnx).");

            ImportedNetwork imported = PyTorchImport.Load(weightsPath, new PyTorchImportSettings
            {
                BatchFirst = parse.GetValue(batchFirst),
                Nonlinearity = parse.GetValue(nonlinearity) == "relu" ? RnnNonlinearity.Relu : RnnNonlinearity.Tanh,
                Prefix = parse.GetValue(prefix),
            });
            RecurrentOptions o = imported.Options;
            RecurrentNetwork net = WeightFormats.Parse(parse.GetValue(format)) is { } f ? imported.Network.WithWeightFormat(f) : imported.Network;
            bool lstm = o.Cell == CellKind.Lstm;
            Usage.Require(lstm || c0Path is null, $"--c0: {(o.Cell == CellKind.Gru ? "a GRU" : "an RNN")} has no cell state; give --h0 alone.");
            Usage.Require(!lstm || (h0Path is null) == (c0Path is null),
                $"{(h0Path is null ? "--c0 without --h0" : "--h0 without --c0")}: an LSTM starts from both h0 and c0; give both, or neither for zeros.");

            NpyArray x = Npy.Read(inputPath);
            Usage.Require(x.Shape.Length == 3 && x.Shape[2] == o.InputSize,
                $"--input is {x.ShapeText}; expected {(o.BatchFirst ? "[B, T, " : "[T, B, ")}{o.InputSize}].");
            int steps = o.BatchFirst ? x.Shape[1] : x.Shape[0], batch = o.BatchFirst ? x.Shape[0] : x.Shape[1];
            int state = o.Directions * o.Layers;
            float[] hInit = h0Path is null ? [] : ReadState(h0Path, "--h0", state, batch, o.HiddenStateSize); // P wide with projections
            float[] cInit = c0Path is null ? [] : ReadState(c0Path, "--c0", state, batch, o.HiddenSize);
            float[] xs = x.ToSingle();
            if (parse.GetValue(checkFinite))
            {
                net.CheckFinite = true; // x, h0, c0 and every h and c, with the place of the first bad value
                foreach (ParameterInfo p in imported.Network.ParameterInfos)
                {
                    float[] values = imported.Network.GetParameter(p.Name);
                    int bad = Array.FindIndex(values, v => !float.IsFinite(v));
                    Usage.Require(bad < 0, $"--check-finite: {imported.Prefix}{p.Name}[{bad}] is {(bad < 0 ? 0 : values[bad])}.");
                }
            }
            SequenceOutput r = lengthsPath is null ? net.Forward(xs, steps, batch, hInit, cInit)
                : net.Forward(xs, steps, batch, ReadLengths(lengthsPath, batch), hInit, cInit);

            Npy.Write(Path.Combine(outDir, "y.npy"), r.Output, o.BatchFirst ? [batch, steps, o.OutputSize] : [steps, batch, o.OutputSize]);
            Npy.Write(Path.Combine(outDir, "hn.npy"), r.Hn, [state, batch, o.HiddenStateSize]);
            if (lstm) Npy.Write(Path.Combine(outDir, "cn.npy"), r.Cn, [state, batch, o.HiddenSize]);
            string kind = (o.Nonlinearity == RnnNonlinearity.Relu ? "RNN (ReLU)" : TrainCommand.CellName(o.Cell)) + (imported.IsCellModule ? " cell" : "") + (o.Bias ? "" : " without bias")
                + (o.ProjectionSize > 0 ? $" with projections P = {o.ProjectionSize}" : "");
            AnsiConsole.MarkupLineInterpolated($"{kind} I = {o.InputSize}, H = {o.HiddenSize}, L = {o.Layers}, D = {o.Directions}, {WeightFormats.Name(net.WeightFormat)} weights{(imported.Prefix.Length > 0 ? $", prefix '{imported.Prefix}'" : "")}: T = {steps}, B = {batch} → {outDir}");
            if (imported.IgnoredKeys.Count > 0)
            {
                Console.WriteLine($"ignored {imported.IgnoredKeys.Count} key(s) outside '{imported.Prefix}': {string.Join(", ", imported.IgnoredKeys)}");
            }
            return 0;
        });
        return command;
    }

    // An `lstm train` checkpoint is a different kind of file; say so rather than report a malformed safetensors header.
    private static void RefuseCheckpoint(string path, FileInfo shown)
    {
        Span<byte> head = stackalloc byte[8];
        using var s = File.OpenRead(path);
        int n = s.ReadAtLeast(head, head.Length, throwOnEndOfStream: false);
        Usage.Require(!head[..n].SequenceEqual("LSTMCKPT"u8),
            $"--weights {shown}: is an `lstm train` checkpoint, not a PyTorch state_dict (.safetensors or .npz); `lstm sample --model` reads it.");
    }

    // int64 as PyTorch gives lengths (int32 too); the network checks each is in [0, T] and names the row if not.
    private static int[] ReadLengths(string path, int batch)
    {
        NpyArray a = Npy.Read(path);
        Usage.Require(a.DType is "<i8" or "<i4", $"--lengths is {a.DType}; expected int64 (or int32) lengths.");
        Usage.Require(a.Shape.SequenceEqual([batch]), $"--lengths is {a.ShapeText}; expected [{batch}] (one length per batch row).");
        int bad = Array.FindIndex(a.Data, v => v is < int.MinValue or > int.MaxValue);
        Usage.Require(bad < 0, $"--lengths: lengths[{bad}] (batch row {bad}) is {(bad < 0 ? 0 : a.Data[bad])}; expected 0 ≤ length ≤ T.");
        return Array.ConvertAll(a.Data, v => (int)v);
    }

    private static float[] ReadState(string path, string option, int state, int batch, int hidden)
    {
        NpyArray a = Npy.Read(path);
        Usage.Require(a.Shape.SequenceEqual([state, batch, hidden]), $"{option} is {a.ShapeText}; expected [{state}, {batch}, {hidden}] (D·L, B, {(option == "--h0" ? "H, or P with projections" : "H")}).");
        return a.ToSingle();
    }
}
