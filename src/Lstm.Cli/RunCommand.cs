using System.CommandLine;
using Lstm.Core;
using Lstm.Core.Interop;
using Lstm.Core.NumPy;
using Spectre.Console;

namespace Lstm.Cli;

/// <summary>`lstm run`: a PyTorch nn.LSTM's weights and an input array in, y, hn and cn out, as .npy files.</summary>
public static class RunCommand
{
    public static Command Create()
    {
        var weights = new Option<FileInfo>("--weights") { Description = "state_dict as .safetensors or .npz (numpy.savez of the tensors).", Required = true };
        var input = new Option<FileInfo>("--input") { Description = "x.npy: [T, B, I], or [B, T, I] with --batch-first; float32 or float64.", Required = true };
        var h0 = new Option<FileInfo?>("--h0") { Description = "h0.npy [D·L, B, H] (default zeros)." };
        var c0 = new Option<FileInfo?>("--c0") { Description = "c0.npy [D·L, B, H] (default zeros)." };
        var batchFirst = new Option<bool>("--batch-first") { Description = "Input and output are [B, T, ·]." };
        var output = new Option<DirectoryInfo>("--out") { Description = "Directory for y.npy, hn.npy and cn.npy.", Required = true };
        var format = WeightFormats.Option("Run with W_ih and W_hh in this format (default: as stored in --weights).");
        var command = new Command("run", "Run a PyTorch LSTM's weights on an input array.") { weights, input, h0, c0, batchFirst, output, format };
        command.SetAction(parse =>
        {
            try
            {
                ImportedNetwork imported = PyTorchImport.Load(parse.GetValue(weights)!.FullName, parse.GetValue(batchFirst));
                RecurrentOptions o = imported.Options;
                RecurrentNetwork net = WeightFormats.Parse(parse.GetValue(format)) is { } f ? imported.Network.WithWeightFormat(f) : imported.Network;
                NpyArray x = Npy.Read(parse.GetValue(input)!.FullName);
                if (x.Shape.Length != 3 || x.Shape[2] != o.InputSize)
                {
                    throw new InvalidDataException($"--input is {x.ShapeText}; expected {(o.BatchFirst ? "[B, T, " : "[T, B, ")}{o.InputSize}].");
                }
                int steps = o.BatchFirst ? x.Shape[1] : x.Shape[0], batch = o.BatchFirst ? x.Shape[0] : x.Shape[1];
                float[] hInit = parse.GetValue(h0) is { } hf ? Npy.Read(hf.FullName).ToSingle() : [];
                float[] cInit = parse.GetValue(c0) is { } cf ? Npy.Read(cf.FullName).ToSingle() : [];
                SequenceOutput r = net.Forward(x.ToSingle(), steps, batch, hInit, cInit);

                DirectoryInfo dir = parse.GetValue(output)!;
                dir.Create();
                int state = o.Directions * o.Layers;
                Npy.Write(Path.Combine(dir.FullName, "y.npy"), r.Output, o.BatchFirst ? [batch, steps, o.OutputSize] : [steps, batch, o.OutputSize]);
                Npy.Write(Path.Combine(dir.FullName, "hn.npy"), r.Hn, [state, batch, o.HiddenSize]);
                if (o.Cell == CellKind.Lstm) Npy.Write(Path.Combine(dir.FullName, "cn.npy"), r.Cn, [state, batch, o.HiddenSize]);
                AnsiConsole.MarkupLineInterpolated($"{(o.Cell == CellKind.Lstm ? "LSTM" : "RNN")} I = {o.InputSize}, H = {o.HiddenSize}, L = {o.Layers}, D = {o.Directions}, {WeightFormats.Name(net.WeightFormat)} weights{(imported.Prefix.Length > 0 ? $", prefix '{imported.Prefix}'" : "")}: T = {steps}, B = {batch} → {dir.FullName}");
                return 0;
            }
            catch (Exception e) when (e is InvalidDataException or IOException or ArgumentException or NotSupportedException)
            {
                AnsiConsole.MarkupLineInterpolated($"[red]error:[/] {e.Message}");
                return 2;
            }
        });
        return command;
    }
}
