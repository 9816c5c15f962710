using Lstm.Core;
using Lstm.Onnx.Proto;
using Lstm.Simd;

namespace Lstm.Onnx;

/// <summary>
/// Reads an .onnx model and builds a network from one of its recurrent nodes (<c>LSTM</c>, <c>GRU</c>, <c>RNN</c>, or
/// ONNX Runtime's <c>com.microsoft</c> <c>DynamicQuantizeLSTM</c>) whose weights are stored in the model. Every other
/// node is ignored and listed. A malformed file, or a node this library cannot run exactly (an attribute it lacks, a
/// non-default activation), gives one <see cref="InvalidDataException"/> naming the node and the reason.
/// </summary>
public static class OnnxImport
{
    /// <summary>The model's recurrent nodes and its other nodes, without building anything.</summary>
    public static OnnxGraphSummary Inspect(string path) => new OnnxGraph(OnnxModelReader.Read(path), path).Summary;

    /// <summary>
    /// Builds the network of the recurrent node named <paramref name="nodeName"/> (its name, or its first output's),
    /// or of the only one when null. A model with several recurrent nodes and no name given is refused, listing them.
    /// </summary>
    public static OnnxRecurrentModel Load(string path, string? nodeName = null, SimdPath? kernelPath = null)
    {
        ArgumentNullException.ThrowIfNull(path);
        return FromModel(OnnxModelReader.Read(path), path, nodeName, kernelPath);
    }

    /// <summary>As <see cref="Load(string, string?, SimdPath?)"/>, from a stream (read to its end).</summary>
    public static OnnxRecurrentModel Load(Stream stream, string? nodeName = null, SimdPath? kernelPath = null, string what = "ONNX model") =>
        FromModel(OnnxModelReader.Read(stream, what), what, nodeName, kernelPath);

    /// <summary>
    /// Stacks the named nodes, in order, into one network of that many layers (PyTorch's multi-layer modules export as
    /// one node per layer): node k becomes layer k. They must agree on cell, hidden size, directions, layout and
    /// activation, each reading the D·H outputs of the one before, none reverse-only; the result is float32 (int8
    /// DynamicQuantizeLSTM weights dequantized) and takes h0, c0 [D·L, B, H] as PyTorch does. How the graph connects the
    /// nodes is not checked: name them in the order the data flows.
    /// </summary>
    public static RecurrentNetwork LoadLayers(string path, IReadOnlyList<string> nodeNames, SimdPath? kernelPath = null)
    {
        ArgumentNullException.ThrowIfNull(path);
        ArgumentNullException.ThrowIfNull(nodeNames);
        if (nodeNames.Count == 0) throw new ArgumentException("Name at least one node.", nameof(nodeNames));
        ModelProto model = OnnxModelReader.Read(path);
        var values = new Dictionary<string, float[]>(StringComparer.Ordinal);
        RecurrentOptions? first = null;
        for (int layer = 0; layer < nodeNames.Count; layer++)
        {
            using OnnxRecurrentModel node = FromModel(model, path, nodeNames[layer], kernelPath);
            RecurrentOptions o = node.Network.Options;
            if (node.Direction == OnnxDirection.Reverse)
            {
                throw new InvalidDataException($"{path}: node {node.Node} runs in reverse only; a layer of a network runs forward (or both ways).");
            }
            if (first is null)
            {
                first = o;
            }
            else if (o.InputSize != first.OutputSize || (o with { InputSize = first.InputSize }) != first)
            {
                throw new InvalidDataException($"{path}: node {node.Node} (I = {o.InputSize}, H = {o.HiddenSize}, D = {o.Directions}, {o.Cell}) cannot follow {nodeNames[layer - 1]} as layer {layer}: it must read {first.OutputSize} inputs and have the first node's cell, H = {first.HiddenSize}, D = {first.Directions} and layout.");
            }
            foreach (ParameterInfo info in node.Network.ParameterInfos)
            {
                values[info.Name.Replace("_l0", $"_l{layer}", StringComparison.Ordinal)] = node.Network.GetParameter(info.Name);
            }
        }
        return RecurrentNetwork.FromParameters(first! with { Layers = nodeNames.Count }, values, kernelPath);
    }

    internal static OnnxRecurrentModel FromModel(ModelProto model, string what, string? nodeName, SimdPath? kernelPath)
    {
        var graph = new OnnxGraph(model, what);
        var candidates = graph.Recurrent;
        if (candidates.Count == 0)
        {
            throw new InvalidDataException($"{what}: the graph has no LSTM, GRU, RNN or DynamicQuantizeLSTM node (it has {Describe(graph.Summary.OtherNodes)}).");
        }
        (NodeProto Node, OnnxNodeInfo Info) chosen;
        if (nodeName is null)
        {
            if (candidates.Count > 1)
            {
                throw new InvalidDataException($"{what}: the graph has {candidates.Count} recurrent nodes ({Describe(graph.Summary.RecurrentNodes)}); name one.");
            }
            chosen = candidates[0];
        }
        else
        {
            var matches = candidates.Where(c => c.Info.Name == nodeName).ToList();
            if (matches.Count != 1)
            {
                throw new InvalidDataException($"{what}: {(matches.Count == 0 ? "no" : $"{matches.Count}")} recurrent node{(matches.Count == 0 ? " is" : "s are")} named '{nodeName}'; the recurrent nodes are {Describe(graph.Summary.RecurrentNodes)}.");
            }
            chosen = matches[0];
        }
        return OnnxNodeImport.Build(graph, chosen.Node, chosen.Info, kernelPath);
    }

    internal static string Describe(IReadOnlyList<OnnxNodeInfo> nodes) =>
        nodes.Count == 0 ? "no nodes" : string.Join(", ", nodes.Take(20)) + (nodes.Count > 20 ? $" and {nodes.Count - 20} more" : "");
}
