using System.Runtime.InteropServices;
using Google.Protobuf;
using Lstm.Core;
using Lstm.Onnx.Proto;
using AttributeType = Lstm.Onnx.Proto.AttributeProto.Types.AttributeType;
using DataType = Lstm.Onnx.Proto.TensorProto.Types.DataType;

namespace Lstm.Onnx;

/// <summary>
/// Writes a network as an ONNX model (opset 14) with PyTorch's signature: input <c>x</c> [T, B, I] ([B, T, I] batch
/// first), outputs <c>y</c> [T, B, D·H] ([B, T, D·H]), <c>hn</c> [D·L, B, H] and, for an LSTM, <c>cn</c>; the initial
/// state is zeros. One LSTM, GRU or RNN node per layer, and the Transpose and Reshape that turn each node's Y
/// [T, D, B, H] into the next layer's input [T, B, D·H] (what PyTorch's exporter writes); the Y_h (and Y_c) of the
/// layers are concatenated into hn (and cn). Weights are float32 (a reduced network's are written dequantized). With
/// <c>initialState</c> the model also takes <c>h0</c> (and <c>c0</c>) [D·L, B, H], sliced per layer, as PyTorch's does;
/// without, every layer starts from zeros.
/// </summary>
public static class OnnxExport
{
    /// <summary>The opset of ONNX's own domain the model imports (LSTM, GRU and RNN of version 14, with layout).</summary>
    public const int Opset = 14;

    /// <summary>Writes the model to <paramref name="path"/> (a temporary name, flushed, then renamed over it).</summary>
    public static void Write(RecurrentNetwork network, string path, bool initialState = false)
    {
        ArgumentNullException.ThrowIfNull(path);
        ModelProto model = ToModel(network, initialState);
        AtomicFile.Write(path, s => model.WriteTo(s));
    }

    /// <summary>The model's bytes.</summary>
    public static byte[] ToBytes(RecurrentNetwork network, bool initialState = false) => ToModel(network, initialState).ToByteArray();

    internal static ModelProto ToModel(RecurrentNetwork network, bool initialState = false)
    {
        ArgumentNullException.ThrowIfNull(network);
        RecurrentOptions o = network.Options;
        if (o.Cell == CellKind.Lstm && !o.ForgetGate)
        {
            throw new NotSupportedException("An LSTM without a forget gate (the 1997 cell) has no ONNX form: ONNX's LSTM always has one.");
        }
        if (o.ProjectionSize != 0)
        {
            throw new NotSupportedException("An LSTM with a projection (ProjectionSize) has no ONNX LSTM form.");
        }
        string op = o.Cell switch { CellKind.Lstm => "LSTM", CellKind.Gru => "GRU", _ => "RNN" };
        int h = o.HiddenSize, d = o.Directions, gh = o.Gates * h;
        int[] order = OnnxGates.OursFromOnnx(o.Cell);
        var g = new GraphProto { Name = "lstm-core-" + op.ToLowerInvariant() };
        g.Initializer.Add(Int64s("chain_shape", [0, 0, -1])); // Reshape [T, B, D, H] → [T, B, D·H]: keep T and B
        if (initialState) g.Initializer.Add(Int64s("state_axis", [0]));

        string current = "x";
        if (o.BatchFirst)
        {
            g.Node.Add(Node("Transpose", "x_to_time_major", ["x"], ["x_tbi"], Ints("perm", [1, 0, 2])));
            current = "x_tbi";
        }
        var finalH = new List<string>();
        var finalC = new List<string>();
        for (int layer = 0; layer < o.Layers; layer++)
        {
            int input = o.LayerInputSize(layer);
            float[] w = new float[d * gh * input], r = new float[d * gh * h], b = new float[d * 2 * gh];
            float[]? p = o.Peepholes ? new float[d * 3 * h] : null;
            for (int dir = 0; dir < d; dir++)
            {
                string suffix = $"_l{layer}" + (dir == 1 ? "_reverse" : "");
                OnnxGates.ToOnnx(network.GetParameter("weight_ih" + suffix), order, h * input).CopyTo(w, dir * gh * input);
                OnnxGates.ToOnnx(network.GetParameter("weight_hh" + suffix), order, h * h).CopyTo(r, dir * gh * h);
                if (o.Bias)
                {
                    OnnxGates.ToOnnx(network.GetParameter("bias_ih" + suffix), order, h).CopyTo(b, dir * 2 * gh);
                    OnnxGates.ToOnnx(network.GetParameter("bias_hh" + suffix), order, h).CopyTo(b, (dir * 2 * gh) + gh);
                }
                if (p is not null)
                {
                    OnnxGates.ToOnnx(network.GetParameter("weight_peephole" + suffix), OnnxGates.PeepholesOursFromOnnx, h).CopyTo(p, dir * 3 * h);
                }
            }
            string l = $"l{layer}";
            g.Initializer.Add(Floats($"W_{l}", [d, gh, input], w));
            g.Initializer.Add(Floats($"R_{l}", [d, gh, h], r));
            g.Initializer.Add(Floats($"B_{l}", [d, 2 * gh], b));
            List<string> inputs = [current, $"W_{l}", $"R_{l}", $"B_{l}", "", "", ""]; // sequence_lens, initial_h, initial_c
            if (initialState)
            {
                // Layer l's rows [l·D, (l+1)·D) of h0 [D·L, B, H] (and of c0), as PyTorch's exporter slices them.
                g.Initializer.Add(Int64s($"state_rows_{l}_start", [layer * d]));
                g.Initializer.Add(Int64s($"state_rows_{l}_end", [(layer + 1) * d]));
                foreach (string state in o.Cell == CellKind.Lstm ? new[] { "h0", "c0" } : ["h0"])
                {
                    g.Node.Add(Node("Slice", $"{state}_{l}", [state, $"state_rows_{l}_start", $"state_rows_{l}_end", "state_axis"], [$"{state}_{l}"]));
                }
                inputs[5] = $"h0_{l}";
                if (o.Cell == CellKind.Lstm) inputs[6] = $"c0_{l}";
            }
            if (p is not null)
            {
                g.Initializer.Add(Floats($"P_{l}", [d, 3 * h], p));
                inputs.Add($"P_{l}");
            }
            while (inputs[^1].Length == 0) inputs.RemoveAt(inputs.Count - 1);
            List<string> outputs = [$"Y_{l}", $"Y_h_{l}"];
            if (o.Cell == CellKind.Lstm) outputs.Add($"Y_c_{l}");
            NodeProto node = Node(op, $"{op.ToLowerInvariant()}_{l}", inputs, outputs,
                Int("hidden_size", h), Text("direction", d == 2 ? "bidirectional" : "forward"));
            if (o.Cell == CellKind.Gru) node.Attribute.Add(Int("linear_before_reset", o.LinearBeforeReset ? 1 : 0));
            if (o.Cell == CellKind.Rnn && o.Nonlinearity == RnnNonlinearity.Relu)
            {
                node.Attribute.Add(Texts("activations", [.. Enumerable.Repeat("Relu", d)]));
            }
            g.Node.Add(node);
            finalH.Add($"Y_h_{l}");
            if (o.Cell == CellKind.Lstm) finalC.Add($"Y_c_{l}");

            // Y [T, D, B, H] → [T, B, D, H] → [T, B, D·H]: PyTorch's output layout, and the next layer's input.
            bool last = layer == o.Layers - 1;
            string joined = last && !o.BatchFirst ? "y" : $"out_{l}";
            g.Node.Add(Node("Transpose", $"y_{l}_to_tbdh", [$"Y_{l}"], [$"Y_{l}_tbdh"], Ints("perm", [0, 2, 1, 3])));
            g.Node.Add(Node("Reshape", $"y_{l}_join_directions", [$"Y_{l}_tbdh", "chain_shape"], [joined]));
            current = joined;
        }
        if (o.BatchFirst)
        {
            g.Node.Add(Node("Transpose", "y_to_batch_major", [current], ["y"], Ints("perm", [1, 0, 2])));
        }
        g.Node.Add(Node("Concat", "hn_of_layers", finalH, ["hn"], Int("axis", 0)));
        if (o.Cell == CellKind.Lstm) g.Node.Add(Node("Concat", "cn_of_layers", finalC, ["cn"], Int("axis", 0)));

        g.Input.Add(Value("x", o.BatchFirst ? ["B", "T", o.InputSize] : ["T", "B", o.InputSize]));
        if (initialState)
        {
            g.Input.Add(Value("h0", [d * o.Layers, "B", h]));
            if (o.Cell == CellKind.Lstm) g.Input.Add(Value("c0", [d * o.Layers, "B", h]));
        }
        g.Output.Add(Value("y", o.BatchFirst ? ["B", "T", o.OutputSize] : ["T", "B", o.OutputSize]));
        g.Output.Add(Value("hn", [d * o.Layers, "B", h]));
        if (o.Cell == CellKind.Lstm) g.Output.Add(Value("cn", [d * o.Layers, "B", h]));

        var model = new ModelProto { IrVersion = 8, ProducerName = "Lstm.Onnx", ProducerVersion = typeof(OnnxExport).Assembly.GetName().Version?.ToString() ?? "", Graph = g };
        model.OpsetImport.Add(new OperatorSetIdProto { Domain = "", Version = Opset });
        return model;
    }

    private static NodeProto Node(string op, string name, IEnumerable<string> inputs, IEnumerable<string> outputs, params AttributeProto[] attributes)
    {
        var n = new NodeProto { OpType = op, Name = name, Domain = "" };
        n.Input.AddRange(inputs);
        n.Output.AddRange(outputs);
        n.Attribute.AddRange(attributes);
        return n;
    }

    private static AttributeProto Int(string name, long value) => new() { Name = name, Type = AttributeType.Int, I = value };

    private static AttributeProto Ints(string name, long[] values)
    {
        var a = new AttributeProto { Name = name, Type = AttributeType.Ints };
        a.Ints.AddRange(values);
        return a;
    }

    private static AttributeProto Text(string name, string value) => new() { Name = name, Type = AttributeType.String, S = ByteString.CopyFromUtf8(value) };

    private static AttributeProto Texts(string name, string[] values)
    {
        var a = new AttributeProto { Name = name, Type = AttributeType.Strings };
        a.Strings.AddRange(values.Select(ByteString.CopyFromUtf8));
        return a;
    }

    internal static TensorProto Floats(string name, long[] dims, float[] values)
    {
        var t = new TensorProto { Name = name, DataType = (int)DataType.Float };
        t.Dims.AddRange(dims);
        // raw_data is little-endian by ONNX's definition; so is every platform .NET runs these kernels on.
        t.RawData = BitConverter.IsLittleEndian ? ByteString.CopyFrom(MemoryMarshal.AsBytes(values.AsSpan()))
            : throw new PlatformNotSupportedException("ONNX export needs a little-endian machine.");
        return t;
    }

    internal static TensorProto Int64s(string name, long[] values)
    {
        var t = new TensorProto { Name = name, DataType = (int)DataType.Int64 };
        t.Dims.Add(values.Length);
        t.Int64Data.AddRange(values);
        return t;
    }

    // A float tensor whose dimensions are numbers or names (symbolic: T, B).
    private static ValueInfoProto Value(string name, object[] dims)
    {
        var shape = new TensorShapeProto();
        foreach (object dim in dims)
        {
            shape.Dim.Add(dim is string s ? new TensorShapeProto.Types.Dimension { DimParam = s } : new TensorShapeProto.Types.Dimension { DimValue = Convert.ToInt64(dim, System.Globalization.CultureInfo.InvariantCulture) });
        }
        return new ValueInfoProto { Name = name, Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = (int)DataType.Float, Shape = shape } } };
    }
}
