using Lstm.Onnx.Proto;

namespace Lstm.Onnx;

/// <summary>One node of an ONNX graph: its name (its first output's when it has none), operator and domain.</summary>
/// <param name="Name">The node's name, or its first output's name when the node has none (ONNX allows unnamed nodes).</param>
/// <param name="OpType">The operator, e.g. <c>LSTM</c>.</param>
/// <param name="Domain">The operator set's domain: empty for ONNX's own, <c>com.microsoft</c> for ONNX Runtime's.</param>
public sealed record OnnxNodeInfo(string Name, string OpType, string Domain)
{
    /// <summary>"name (LSTM)", or "name (com.microsoft.DynamicQuantizeLSTM)".</summary>
    public override string ToString() => $"{Name} ({(Domain.Length == 0 || Domain == "ai.onnx" ? "" : Domain + ".")}{OpType})";
}

/// <summary>What a model holds: its recurrent nodes (those this library runs) and every other node (ignored).</summary>
/// <param name="RecurrentNodes"><c>LSTM</c>, <c>GRU</c> and <c>RNN</c> nodes, and <c>com.microsoft</c> <c>DynamicQuantizeLSTM</c> ones, in graph order.</param>
/// <param name="OtherNodes">Every other node (Transpose, Reshape, Slice, ...), in graph order: not run by the import.</param>
public sealed record OnnxGraphSummary(IReadOnlyList<OnnxNodeInfo> RecurrentNodes, IReadOnlyList<OnnxNodeInfo> OtherNodes);

/// <summary>An ONNX graph's nodes and the tensors known without running it: initializers and Constant nodes' values.</summary>
internal sealed class OnnxGraph
{
    internal const string MicrosoftDomain = "com.microsoft";

    private readonly Dictionary<string, TensorProto> constants = new(StringComparer.Ordinal);
    private readonly Dictionary<string, NodeProto> producers = new(StringComparer.Ordinal);
    private readonly HashSet<string> graphInputs = new(StringComparer.Ordinal);

    public OnnxGraph(ModelProto model, string what)
    {
        What = what;
        GraphProto g = model.Graph;
        foreach (TensorProto t in g.Initializer)
        {
            constants.TryAdd(t.Name, t);
        }
        foreach (ValueInfoProto v in g.Input)
        {
            // Older exporters list every initializer as a graph input too (its default value): the initializer counts.
            graphInputs.Add(v.Name);
        }
        var recurrent = new List<(NodeProto, OnnxNodeInfo)>();
        var others = new List<OnnxNodeInfo>();
        foreach (NodeProto n in g.Node)
        {
            var info = new OnnxNodeInfo(n.Name.Length > 0 ? n.Name : n.Output.FirstOrDefault() ?? "", n.OpType, n.Domain);
            if (IsRecurrent(n)) recurrent.Add((n, info));
            else others.Add(info);
            foreach (string output in n.Output)
            {
                producers.TryAdd(output, n);
            }
            if (n.OpType == "Constant" && IsOnnxDomain(n.Domain) && n.Output.Count == 1
                && n.Attribute.FirstOrDefault(a => a.Name == "value") is { T: { } value })
            {
                constants.TryAdd(n.Output[0], value);
            }
        }
        Recurrent = recurrent;
        Summary = new OnnxGraphSummary([.. recurrent.Select(r => r.Item2)], others);
    }

    public string What { get; }

    public OnnxGraphSummary Summary { get; }

    public IReadOnlyList<(NodeProto Node, OnnxNodeInfo Info)> Recurrent { get; }

    public static bool IsOnnxDomain(string domain) => domain.Length == 0 || domain == "ai.onnx";

    private static bool IsRecurrent(NodeProto n) =>
        (IsOnnxDomain(n.Domain) && n.OpType is "LSTM" or "GRU" or "RNN")
        || (n.Domain == MicrosoftDomain && n.OpType == "DynamicQuantizeLSTM");

    public TensorProto? Constant(string name) => constants.GetValueOrDefault(name);

    /// <summary>Where a value that is not a constant comes from: a graph input, or the node that computes it.</summary>
    public string Source(string name) =>
        graphInputs.Contains(name) && !constants.ContainsKey(name) ? $"the graph input '{name}'"
        : producers.TryGetValue(name, out NodeProto? p) ? $"'{name}', computed by {p.OpType} '{(p.Name.Length > 0 ? p.Name : name)}'"
        : $"'{name}', which nothing in the graph defines";
}
