using Google.Protobuf;
using Lstm.Onnx.Proto;
using AttributeType = Lstm.Onnx.Proto.AttributeProto.Types.AttributeType;

namespace Lstm.Onnx.Tests;

/// <summary>What the import cannot run exactly is refused with one <see cref="InvalidDataException"/> saying what and why.</summary>
public class RefusalTests
{
    private static InvalidDataException Refused(ModelProto model) =>
        Assert.Throws<InvalidDataException>(() => OnnxImport.Load(new MemoryStream(model.ToByteArray())));

    private static ModelProto With(params AttributeProto[] extra)
    {
        var m = new NodeModel { Op = "LSTM" };
        m.ExtraAttributes.AddRange(extra);
        return m.Build();
    }

    [Fact]
    public void Clip_InputForget_AndOtherActivations_AreNamed()
    {
        Assert.Contains("clip = 3 (cell clipping) is not supported",
            Refused(With(new AttributeProto { Name = "clip", Type = AttributeType.Float, F = 3 })).Message, StringComparison.Ordinal);
        var coupled = new NodeModel { Op = "LSTM", ExplicitDefaults = false };
        coupled.ExtraAttributes.Add(new AttributeProto { Name = "input_forget", Type = AttributeType.Int, I = 1 });
        Assert.Contains("input_forget = 1", Refused(coupled.Build()).Message, StringComparison.Ordinal);

        var other = new NodeModel { Op = "LSTM", ExplicitDefaults = false };
        var acts = new AttributeProto { Name = "activations", Type = AttributeType.Strings };
        acts.Strings.AddRange(new[] { "HardSigmoid", "Tanh", "Tanh" }.Select(ByteString.CopyFromUtf8));
        other.ExtraAttributes.Add(acts);
        string message = Refused(other.Build()).Message;
        Assert.Contains("activations [HardSigmoid, Tanh, Tanh] are not supported", message, StringComparison.Ordinal);
        Assert.Contains("rnn_node (LSTM)", message, StringComparison.Ordinal);

        var unknown = With(new AttributeProto { Name = "frobnicate", Type = AttributeType.Int, I = 1 });
        Assert.Contains("LSTM has no attribute 'frobnicate'", Refused(unknown).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ExternalData_ComputedWeights_AndMisshapedTensors_AreRefused()
    {
        ModelProto external = new NodeModel { Op = "RNN" }.Build();
        TensorProto w = external.Graph.Initializer.Single(t => t.Name == "W");
        w.ClearRawData();
        w.DataLocation = TensorProto.Types.DataLocation.External;
        w.ExternalData.Add(new StringStringEntryProto { Key = "location", Value = "weights.bin" });
        Assert.Contains("keeps its data in an external file", Refused(external).Message, StringComparison.Ordinal);

        ModelProto computed = new NodeModel { Op = "RNN" }.Build();
        computed.Graph.Initializer.Remove(computed.Graph.Initializer.Single(t => t.Name == "R"));
        computed.Graph.Input.Add(NodeModel.Value("R", [1, 5, 5]));
        Assert.Contains("its R is the graph input 'R', not an initializer", Refused(computed).Message, StringComparison.Ordinal);

        ModelProto misshaped = new NodeModel { Op = "LSTM" }.Build();
        TensorProto b = misshaped.Graph.Initializer.Single(t => t.Name == "B");
        b.Dims[1] -= 1;
        Assert.Contains("raw_data holds 160 bytes; its shape [1, 39] of Float needs 156", Refused(misshaped).Message, StringComparison.Ordinal);

        ModelProto wrongHidden = With();
        wrongHidden.Graph.Node[0].Attribute.Single(a => a.Name == "hidden_size").I = 4;
        Assert.Contains("W is [1, 20, 4]; expected [1, 16, 4]", Refused(wrongHidden).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void NotAModel_NoRecurrentNode_AndAnUnknownName_AreRefused()
    {
        Assert.Throws<InvalidDataException>(() => OnnxImport.Load(new MemoryStream([0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f])));
        Assert.Contains("has no graph", Assert.Throws<InvalidDataException>(() => OnnxImport.Load(new MemoryStream([]))).Message, StringComparison.Ordinal);

        ModelProto noRnn = new NodeModel { Op = "RNN" }.Build();
        noRnn.Graph.Node[0].OpType = "Gemm";
        Assert.Contains("no LSTM, GRU, RNN or DynamicQuantizeLSTM node (it has rnn_node (Gemm))", Refused(noRnn).Message, StringComparison.Ordinal);

        var e = Assert.Throws<InvalidDataException>(() => OnnxImport.Load(new MemoryStream(new NodeModel { Op = "RNN" }.Bytes()), nodeName: "other"));
        Assert.Contains("no recurrent node is named 'other'; the recurrent nodes are rnn_node (RNN)", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Run_ChecksShapesAndLengths()
    {
        var m = new NodeModel { Op = "LSTM", Lengths = true };
        using OnnxRecurrentModel model = OnnxImport.Load(new MemoryStream(m.Bytes()));
        Assert.Equal(Enumerable.Repeat(m.Steps, m.Batch), model.SequenceLengths!);
        float[] x = new float[m.Steps * m.Batch * m.Input];
        var shape = Assert.Throws<ArgumentException>(() => model.Run(x.AsSpan(1), m.Steps, m.Batch));
        Assert.Equal("x", shape.ParamName);
        Assert.Contains("expected shape [6, 3, 4]", shape.Message, StringComparison.Ordinal);
        // The stored lengths are for B = 3: another batch size must bring its own.
        Assert.Throws<ArgumentException>(() => model.Run(new float[m.Steps * 2 * m.Input], m.Steps, 2));
        // Rows shorter than T run as variable-length batches, for a GRU too (see ImportTests.RaggedSequenceLens_MatchOnnxRuntime).
        Assert.NotEqual(model.Run(x, m.Steps, m.Batch).Y, model.Run(x, m.Steps, m.Batch, sequenceLengths: new[] { 6, 5, 6 }).Y);
        using OnnxRecurrentModel gru = OnnxImport.Load(new MemoryStream(new NodeModel { Op = "GRU" }.Bytes()));
        Assert.NotEqual(gru.Run(x, m.Steps, m.Batch).Y, gru.Run(x, m.Steps, m.Batch, sequenceLengths: new[] { 6, 5, 6 }).Y);
        Assert.Throws<ArgumentOutOfRangeException>(() => model.Run(x, m.Steps, m.Batch, sequenceLengths: new[] { 6, 7, 6 }));
        Assert.Equal(model.Run(x, m.Steps, m.Batch).Y, model.Run(x, m.Steps, m.Batch, sequenceLengths: new[] { 6, 6, 6 }).Y);
        var h = Assert.Throws<ArgumentException>(() => model.Run(x, m.Steps, m.Batch, initialH: new float[4]));
        Assert.Equal("initialH", h.ParamName);
    }
}
