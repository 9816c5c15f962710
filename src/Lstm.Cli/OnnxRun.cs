using Lstm.Core;
using Lstm.Core.NumPy;
using Lstm.Onnx;
using Spectre.Console;

namespace Lstm.Cli;

/// <summary>
/// `lstm run --weights model.onnx`: one recurrent node of an ONNX model on an input array, its outputs written as ONNX
/// defines them (y [T, D, B, H] or [B, T, D, H]; hn, cn [D, B, H] or [B, D, H]).
/// </summary>
internal static class OnnxRun
{
    public static bool IsOnnx(string path) => path.EndsWith(".onnx", StringComparison.OrdinalIgnoreCase);

    public sealed record Request(string Weights, string? Node, string Input, string? H0, string? C0, string? Lengths, bool BatchFirst, bool CheckFinite, string? Format, string OutDir);

    public static int Run(Request q)
    {
        Usage.Require(q.Format is null, "--weight-format: an ONNX model runs with the weights it stores (DynamicQuantizeLSTM's dequantized to float32); convert a state_dict instead.");
        using OnnxRecurrentModel model = OnnxImport.Load(q.Weights, q.Node);
        RecurrentOptions o = model.Network.Options;
        bool lstm = o.Cell == CellKind.Lstm;
        Usage.Require(!q.BatchFirst || model.Layout == 1, $"--batch-first: the node {model.Node} has layout 0 ([T, B, I]); with an ONNX model the node's layout decides (layout 1 is batch-first).");
        Usage.Require(lstm || q.C0 is null, "--c0: this node has no cell state; give --h0 alone.");

        NpyArray x = Npy.Read(q.Input);
        Usage.Require(x.Shape.Length == 3 && x.Shape[2] == o.InputSize,
            $"--input is {x.ShapeText}; the node {model.Node} (layout {model.Layout}) takes {(model.Layout == 1 ? "[B, T, " : "[T, B, ")}{o.InputSize}].");
        int steps = model.Layout == 1 ? x.Shape[1] : x.Shape[0], batch = model.Layout == 1 ? x.Shape[0] : x.Shape[1];
        int[] state = model.StateShape(batch);
        float[] h0 = q.H0 is null ? [] : ReadState(q.H0, "--h0", state);
        float[] c0 = q.C0 is null ? [] : ReadState(q.C0, "--c0", state);
        int[] lengths = [];
        if (q.Lengths is not null)
        {
            NpyArray l = Npy.Read(q.Lengths);
            Usage.Require(l.Shape.SequenceEqual([batch]), $"--lengths is {l.ShapeText}; expected [{batch}] (B).");
            Usage.Require(l.Data.All(v => v == Math.Floor(v) && v >= 0 && v <= steps), $"--lengths: every length must be a whole number in [0, T = {steps}].");
            lengths = [.. l.Data.Select(v => (int)v)];
        }
        model.Network.CheckFinite = q.CheckFinite;
        OnnxOutputs r = model.Run(x.ToSingle(), steps, batch, h0, c0, lengths);

        Npy.Write(Path.Combine(q.OutDir, "y.npy"), r.Y, r.YShape);
        Npy.Write(Path.Combine(q.OutDir, "hn.npy"), r.YH, r.StateShape);
        if (lstm) Npy.Write(Path.Combine(q.OutDir, "cn.npy"), r.YC, r.StateShape);
        AnsiConsole.MarkupLineInterpolated($"{model.Node}: I = {o.InputSize}, H = {o.HiddenSize}, {model.Direction.ToString().ToLowerInvariant()}, layout {model.Layout}: T = {steps}, B = {batch} → {q.OutDir}");
        if (model.Quantization is not null) Console.WriteLine($"weights: {model.Quantization}");
        foreach (string input in model.RuntimeInputs)
        {
            Console.WriteLine($"not run (the node alone is): {input}");
        }
        if (model.Graph.OtherNodes.Count > 0)
        {
            Console.WriteLine($"ignored {model.Graph.OtherNodes.Count} other node(s): {string.Join(", ", model.Graph.OtherNodes.Take(12))}{(model.Graph.OtherNodes.Count > 12 ? ", ..." : "")}");
        }
        if (model.Graph.RecurrentNodes.Count > 1)
        {
            Console.WriteLine($"recurrent nodes in the model (--node): {string.Join(", ", model.Graph.RecurrentNodes)}");
        }
        return 0;
    }

    private static float[] ReadState(string path, string option, int[] shape)
    {
        NpyArray a = Npy.Read(path);
        Usage.Require(a.Shape.SequenceEqual(shape), $"{option} is {a.ShapeText}; expected [{string.Join(", ", shape)}] ([D, B, H] with layout 0, [B, D, H] with layout 1).");
        return a.ToSingle();
    }
}
