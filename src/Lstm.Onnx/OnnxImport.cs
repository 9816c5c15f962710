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
