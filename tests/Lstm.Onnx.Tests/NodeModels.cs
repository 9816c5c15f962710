using Google.Protobuf;
using Lstm.Onnx.Proto;
using AttributeType = Lstm.Onnx.Proto.AttributeProto.Types.AttributeType;

namespace Lstm.Onnx.Tests;

/// <summary>Hand-made one-node ONNX models, built with the protobuf types: every attribute and optional input set.</summary>
internal sealed class NodeModel
{
    public required string Op { get; init; }               // LSTM, GRU, RNN
    public string Direction { get; init; } = "forward";
    public int Layout { get; init; }
    public int Input { get; init; } = 4;
    public int Hidden { get; init; } = 5;
    public int Steps { get; init; } = 6;
    public int Batch { get; init; } = 3;
    public bool Peepholes { get; init; }
    public bool InitialState { get; init; }
    public bool Lengths { get; init; }

    /// <summary>With <see cref="Lengths"/>: each row's sequence_lens (default T for every row).</summary>
    public int[]? LengthValues { get; init; }
    public bool ExplicitDefaults { get; init; } = true;     // activations, input_forget = 0, layout, hidden_size written out
    public int? LinearBeforeReset { get; init; }            // GRU: written when set (ONNX's default is 0)
    public List<AttributeProto> ExtraAttributes { get; } = [];
    public int Seed { get; init; } = 1;

    public int Directions => Direction == "bidirectional" ? 2 : 1;
    public int Gates => Op switch { "LSTM" => 4, "GRU" => 3, _ => 1 };

    public long[] XShape => Layout == 0 ? [Steps, Batch, Input] : [Batch, Steps, Input];
    public long[] StateShape => Layout == 0 ? [Directions, Batch, Hidden] : [Batch, Directions, Hidden];

    public float[] H0 => ExportTests.Random(Directions * Batch * Hidden, Seed + 10);
    public float[] C0 => ExportTests.Random(Directions * Batch * Hidden, Seed + 11);

    public ModelProto Build()
    {
        int d = Directions, gh = Gates * Hidden;
        var g = new GraphProto { Name = "hand-made" };
        g.Initializer.Add(OnnxExport.Floats("W", [d, gh, Input], ExportTests.Random(d * gh * Input, Seed, 0.6f)));
        g.Initializer.Add(OnnxExport.Floats("R", [d, gh, Hidden], ExportTests.Random(d * gh * Hidden, Seed + 1, 0.6f)));
        g.Initializer.Add(OnnxExport.Floats("B", [d, 2 * gh], ExportTests.Random(d * 2 * gh, Seed + 2, 0.3f)));
        List<string> inputs = ["X", "W", "R", "B", "", "", ""];
        if (Lengths)
        {
            var lens = new TensorProto { Name = "sequence_lens", DataType = (int)TensorProto.Types.DataType.Int32 };
            lens.Dims.Add(Batch);
            lens.Int32Data.AddRange(LengthValues ?? Enumerable.Repeat(Steps, Batch));
            g.Initializer.Add(lens);
            inputs[4] = "sequence_lens";
        }
        if (InitialState)
        {
            g.Initializer.Add(OnnxExport.Floats("initial_h", StateShape, H0));
            inputs[5] = "initial_h";
            if (Op == "LSTM")
            {
                g.Initializer.Add(OnnxExport.Floats("initial_c", StateShape, C0));
                inputs[6] = "initial_c";
            }
        }
        if (Peepholes)
        {
            g.Initializer.Add(OnnxExport.Floats("P", [d, 3 * Hidden], ExportTests.Random(d * 3 * Hidden, Seed + 3, 0.5f)));
            inputs.Add("P");
        }
        if (Op != "LSTM") inputs = inputs.Take(6).ToList();
        while (inputs[^1].Length == 0) inputs.RemoveAt(inputs.Count - 1);

        var node = new NodeProto { Name = "rnn_node", OpType = Op };
        node.Input.AddRange(inputs);
        node.Output.AddRange(Op == "LSTM" ? ["Y", "Y_h", "Y_c"] : ["Y", "Y_h"]);
        node.Attribute.Add(new AttributeProto { Name = "direction", Type = AttributeType.String, S = ByteString.CopyFromUtf8(Direction) });
        node.Attribute.Add(new AttributeProto { Name = "hidden_size", Type = AttributeType.Int, I = Hidden });
        if (Layout != 0 || ExplicitDefaults) node.Attribute.Add(new AttributeProto { Name = "layout", Type = AttributeType.Int, I = Layout });
        if (ExplicitDefaults)
        {
            string[] one = Op switch { "LSTM" => ["Sigmoid", "Tanh", "Tanh"], "GRU" => ["Sigmoid", "Tanh"], _ => ["Tanh"] };
            var acts = new AttributeProto { Name = "activations", Type = AttributeType.Strings };
            for (int k = 0; k < d; k++) acts.Strings.AddRange(one.Select(ByteString.CopyFromUtf8));
            node.Attribute.Add(acts);
            if (Op == "LSTM") node.Attribute.Add(new AttributeProto { Name = "input_forget", Type = AttributeType.Int, I = 0 });
        }
        if (LinearBeforeReset is { } lbr) node.Attribute.Add(new AttributeProto { Name = "linear_before_reset", Type = AttributeType.Int, I = lbr });
        node.Attribute.AddRange(ExtraAttributes);
        g.Node.Add(node);
        g.Input.Add(Value("X", XShape));
        g.Output.Add(Value("Y", Layout == 0 ? [Steps, d, Batch, Hidden] : [Batch, Steps, d, Hidden]));
        g.Output.Add(Value("Y_h", StateShape));
        if (Op == "LSTM") g.Output.Add(Value("Y_c", StateShape));
        var model = new ModelProto { IrVersion = 8, Graph = g, ProducerName = "Lstm.Onnx.Tests" };
        model.OpsetImport.Add(new OperatorSetIdProto { Domain = "", Version = 14 });
        return model;
    }

    public byte[] Bytes() => Build().ToByteArray();

    public static ValueInfoProto Value(string name, long[] dims)
    {
        var shape = new TensorShapeProto();
        foreach (long v in dims) shape.Dim.Add(new TensorShapeProto.Types.Dimension { DimValue = v });
        return new ValueInfoProto { Name = name, Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = 1, Shape = shape } } };
    }
}
