using System.Text;
using Lstm.Core;
using Lstm.Onnx.Proto;
using AttributeType = Lstm.Onnx.Proto.AttributeProto.Types.AttributeType;

namespace Lstm.Onnx;

/// <summary>Which way an ONNX recurrent node runs over time.</summary>
public enum OnnxDirection
{
    /// <summary>t = 0 … T-1 (ONNX's default).</summary>
    Forward,

    /// <summary>One direction, t = T-1 … 0.</summary>
    Reverse,

    /// <summary>Both, D = 2: forward first, then reverse (as PyTorch's bidirectional layers).</summary>
    Bidirectional,
}

/// <summary>
/// The attributes of an LSTM, GRU, RNN or DynamicQuantizeLSTM node, checked against what the operator defines and what
/// this library runs: anything else is an <see cref="InvalidDataException"/> naming the node, the attribute and why.
/// </summary>
internal sealed record OnnxAttributes(
    CellKind Cell, OnnxDirection Direction, int Layout, int? HiddenSize, bool LinearBeforeReset, RnnNonlinearity Nonlinearity)
{
    public int Directions => Direction == OnnxDirection.Bidirectional ? 2 : 1;

    public static OnnxAttributes Parse(NodeProto node, string what)
    {
        CellKind cell = node.OpType switch { "GRU" => CellKind.Gru, "RNN" => CellKind.Rnn, _ => CellKind.Lstm };
        string[] known = cell switch
        {
            CellKind.Lstm => ["activation_alpha", "activation_beta", "activations", "clip", "direction", "hidden_size", "input_forget", "layout"],
            CellKind.Gru => ["activation_alpha", "activation_beta", "activations", "clip", "direction", "hidden_size", "layout", "linear_before_reset"],
            _ => ["activation_alpha", "activation_beta", "activations", "clip", "direction", "hidden_size", "layout"],
        };
        var direction = OnnxDirection.Forward;
        int layout = 0;
        int? hidden = null;
        bool linearBeforeReset = false;
        string[]? activations = null;
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (AttributeProto a in node.Attribute)
        {
            if (!known.Contains(a.Name))
            {
                throw new InvalidDataException($"{what}: {node.OpType} has no attribute '{a.Name}' (it has {string.Join(", ", known)}).");
            }
            if (!seen.Add(a.Name))
            {
                throw new InvalidDataException($"{what}: the attribute '{a.Name}' appears twice.");
            }
            if (a.HasRefAttrName)
            {
                throw new InvalidDataException($"{what}: the attribute '{a.Name}' refers to a function's attribute; only values are supported.");
            }
            switch (a.Name)
            {
                case "direction":
                    direction = Text(a, what) switch
                    {
                        "forward" => OnnxDirection.Forward,
                        "reverse" => OnnxDirection.Reverse,
                        "bidirectional" => OnnxDirection.Bidirectional,
                        string other => throw new InvalidDataException($"{what}: direction '{other}' is not forward, reverse or bidirectional."),
                    };
                    break;
                case "layout":
                    layout = Integer(a, what) switch
                    {
                        0 => 0,
                        1 => 1,
                        long other => throw new InvalidDataException($"{what}: layout {other} is not 0 ([T, B, ·]) or 1 ([B, T, ·])."),
                    };
                    break;
                case "hidden_size":
                    long h = Integer(a, what);
                    hidden = h is >= 1 and <= int.MaxValue ? (int)h : throw new InvalidDataException($"{what}: hidden_size {h} is not in [1, {int.MaxValue}].");
                    break;
                case "linear_before_reset":
                    linearBeforeReset = Integer(a, what) switch
                    {
                        0 => false,
                        1 => true,
                        long other => throw new InvalidDataException($"{what}: linear_before_reset {other} is not 0 or 1."),
                    };
                    break;
                case "input_forget":
                    long coupled = Integer(a, what);
                    if (coupled != 0)
                    {
                        // ONNX's coupled gates (f = 1 - i) have no counterpart in Lstm.Core's cell.
                        throw new InvalidDataException($"{what}: input_forget = {coupled} (the forget gate coupled to the input gate) is not supported; only 0, ONNX's default.");
                    }
                    break;
                case "clip":
                    // Clipping every gate's pre-activation needs a clamp inside the fused cell, which Lstm.Core lacks.
                    throw new InvalidDataException($"{what}: clip = {(a.Type == AttributeType.Float ? a.F.ToString(System.Globalization.CultureInfo.InvariantCulture) : "?")} (cell clipping) is not supported; only models without a clip attribute import.");
                case "activations":
                    if (a.Type != AttributeType.Strings) throw new InvalidDataException($"{what}: activations is {a.Type}, not a list of strings.");
                    activations = [.. a.Strings.Select(s => Encoding.UTF8.GetString(s.Span))];
                    break;
                case "activation_alpha":
                case "activation_beta":
                    if (a.Floats.Count > 0)
                    {
                        throw new InvalidDataException($"{what}: {a.Name} is given; the default activations take no parameters and others are not supported.");
                    }
                    break;
            }
        }
        int directions = direction == OnnxDirection.Bidirectional ? 2 : 1;
        RnnNonlinearity nonlinearity = CheckActivations(cell, activations, directions, what);
        return new OnnxAttributes(cell, direction, layout, hidden, linearBeforeReset, nonlinearity);
    }

    // The defaults are required (an RNN may use Relu instead of Tanh), the same for both directions.
    private static RnnNonlinearity CheckActivations(CellKind cell, string[]? given, int directions, string what)
    {
        string[] standard = cell switch { CellKind.Lstm => ["Sigmoid", "Tanh", "Tanh"], CellKind.Gru => ["Sigmoid", "Tanh"], _ => ["Tanh"] };
        if (given is null) return RnnNonlinearity.Tanh;
        string list = "[" + string.Join(", ", given) + "]";
        if (given.Length != standard.Length * directions)
        {
            throw new InvalidDataException($"{what}: activations {list} should name {standard.Length} function(s) per direction, {standard.Length * directions} in all.");
        }
        bool Same(string a, string b) => string.Equals(a, b, StringComparison.OrdinalIgnoreCase);
        if (cell == CellKind.Rnn && given.All(g => Same(g, "Relu")))
        {
            return RnnNonlinearity.Relu;
        }
        for (int i = 0; i < given.Length; i++)
        {
            if (!Same(given[i], standard[i % standard.Length]))
            {
                string supported = "[" + string.Join(", ", standard) + "]" + (cell == CellKind.Rnn ? " or [Relu]" : "");
                throw new InvalidDataException($"{what}: activations {list} are not supported: only the defaults, {supported} per direction.");
            }
        }
        return RnnNonlinearity.Tanh;
    }

    private static string Text(AttributeProto a, string what) =>
        a.Type == AttributeType.String || (a.Type == AttributeType.Undefined && a.HasS)
            ? Encoding.UTF8.GetString(a.S.Span)
            : throw new InvalidDataException($"{what}: the attribute '{a.Name}' is {a.Type}, not a string.");

    private static long Integer(AttributeProto a, string what) =>
        a.Type == AttributeType.Int || (a.Type == AttributeType.Undefined && a.HasI)
            ? a.I
            : throw new InvalidDataException($"{what}: the attribute '{a.Name}' is {a.Type}, not an integer.");
}
