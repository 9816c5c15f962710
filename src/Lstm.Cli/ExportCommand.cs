using System.CommandLine;
using Lstm.Core;
using Lstm.Core.Interop;
using Lstm.Onnx;
using Spectre.Console;

namespace Lstm.Cli;

/// <summary>`lstm export`: a network's weights from one format into another: ONNX model ⇄ PyTorch state_dict.</summary>
public static class ExportCommand
{
    public static Command Create()
    {
        var weights = new Option<FileInfo>("--weights") { Description = "A state_dict (.safetensors or .npz) or an .onnx model.", Required = true };
        var node = new Option<string?>("--node") { Description = "ONNX input only: the recurrent node to export, by name, when the model has several; several names, comma-separated in the order the data flows, stack those nodes as the layers of one network (a multi-layer PyTorch export)." };
        var to = new Option<FileInfo>("--to") { Description = "model.onnx (one node per layer, PyTorch's x, y, hn, cn signature) or model.safetensors (PyTorch's state_dict names).", Required = true };
        var withState = new Option<bool>("--with-state") { Description = "ONNX output only: the model also takes h0 (and c0) [D·L, B, H], as PyTorch's exporter writes it; without, it starts from zeros." };
        var command = new Command("export", "Write a network as an ONNX model or a PyTorch state_dict.") { weights, node, to, withState };
        command.SetAction(parse =>
        {
            string source = Usage.ReadableFile(parse.GetValue(weights)!, "--weights");
            string target = Usage.WritableFile(parse.GetValue(to)!.FullName, "--to");
            string kind = Path.GetExtension(target).ToLowerInvariant();
            Usage.Require(kind is ".onnx" or ".safetensors", $"--to {parse.GetValue(to)}: give a .onnx or .safetensors file name.");
            RecurrentNetwork network;
            string from;
            string? names = parse.GetValue(node);
            if (OnnxRun.IsOnnx(source) && names is not null && names.Contains(',', StringComparison.Ordinal))
            {
                string[] layers = names.Split(',');
                network = OnnxImport.LoadLayers(source, layers);
                from = $"the nodes {string.Join(", ", layers)} as {layers.Length} layers";
            }
            else if (OnnxRun.IsOnnx(source))
            {
                OnnxRecurrentModel model = OnnxImport.Load(source, parse.GetValue(node));
                // A reverse-only node is a forward network fed backward in time: written alone it would run forward.
                Usage.Require(model.Direction != OnnxDirection.Reverse, $"--weights: the node {model.Node} runs in reverse only, which neither a PyTorch module nor this export's forward layers express.");
                network = model.Network;
                from = $"the node {model.Node}";
                if (model.InitialH is not null || model.InitialC is not null)
                {
                    Console.WriteLine("note: the initial state stored in the model is not exported (the exported model starts from zeros).");
                }
            }
            else
            {
                Usage.Require(parse.GetValue(node) is null, "--node applies to ONNX models (--weights model.onnx).");
                network = PyTorchImport.Load(source).Network;
                from = "the state_dict";
            }
            Usage.Require(kind == ".onnx" || !parse.GetValue(withState), "--with-state applies to ONNX output (--to model.onnx).");
            if (kind == ".onnx") OnnxExport.Write(network, target, parse.GetValue(withState));
            else PyTorchImport.Export(network, target);
            RecurrentOptions o = network.Options;
            AnsiConsole.MarkupLineInterpolated($"{from}: {o.Cell} I = {o.InputSize}, H = {o.HiddenSize}, L = {o.Layers}, D = {o.Directions}{(o.BatchFirst ? ", batch-first" : "")} → {target}");
            network.Dispose();
            return 0;
        });
        return command;
    }
}
