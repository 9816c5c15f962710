using Google.Protobuf;
using Lstm.Core;
using Lstm.Onnx.Proto;
using Lstm.Simd;
using DataType = Lstm.Onnx.Proto.TensorProto.Types.DataType;

namespace Lstm.Onnx.Tests;

/// <summary>
/// ONNX Runtime's <c>com.microsoft</c> <c>DynamicQuantizeLSTM</c> (what <c>quantize_dynamic</c> makes of an LSTM):
/// int8 or uint8 weights, transposed to [D, in, 4H], with scales and zero points per direction or per output.
/// Symmetric int8 weights load into our int8 format as they are (uint8 ones are dequantized to float32): their float32
/// form must equal ORT's float LSTM on the dequantized weights; ORT's own int8 kernel and ours both quantize x and h
/// each step (per tensor and per row), so against that they agree only to int8 accuracy (measured: max 1.4e-3–1.9e-3,
/// rms 4e-4–6e-4 on outputs up to 0.41).
/// </summary>
public class DynamicQuantizeLstmTests
{
    /// <summary>
    /// Against ORT's int8 kernel: it rounds x and h to 8 bits (uint8, per tensor) every step, an error of up to half a
    /// step of |x|max/127 per input in each dot product; for these sizes (I = 4, H = 5, weights ≤ 0.6) that is ~1e-2
    /// at most on outputs of order 0.1–1. The README's measured int8 errors are rms 5e-4, max 3e-3.
    /// </summary>
    private const double AgainstOrtInt8 = 2e-2;

    public static TheoryData<bool, bool> Cases() => new() { { true, true }, { true, false }, { false, true }, { false, false } };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Import_DequantizesExactly_AndAgreesWithOrtsInt8Kernel(bool int8Weights, bool perChannel)
    {
        var baseModel = new NodeModel { Op = "LSTM", Direction = "bidirectional", ExplicitDefaults = false, InitialState = true, Seed = 21 };
        ModelProto q = baseModel.Build();
        ModelProto dequantized = baseModel.Build();
        int d = 2, h = baseModel.Hidden, gh = 4 * h;
        foreach (var (name, columns) in new[] { ("W", baseModel.Input), ("R", h) })
        {
            TensorProto source = q.Graph.Initializer.Single(t => t.Name == name);
            float[] w = OnnxTensors.Floats(source, name, out _);
            var (values, scales, zeros, dq) = Quantize(w, d, gh, columns, int8Weights, perChannel);
            q.Graph.Initializer.Remove(source);
            q.Graph.Initializer.Add(Bytes(name, [d, columns, gh], values, int8Weights));
            q.Graph.Initializer.Add(OnnxExport.Floats(name + "_scale", perChannel ? [d, gh] : [d], scales));
            q.Graph.Initializer.Add(Bytes(name + "_zero_point", perChannel ? [d, gh] : [d], zeros, int8Weights));
            TensorProto f = dequantized.Graph.Initializer.Single(t => t.Name == name);
            dequantized.Graph.Initializer.Remove(f);
            dequantized.Graph.Initializer.Add(OnnxExport.Floats(name, [d, gh, columns], dq));
        }
        NodeProto node = q.Graph.Node[0];
        node.OpType = "DynamicQuantizeLSTM";
        node.Domain = "com.microsoft";
        while (node.Input.Count < 8) node.Input.Add("");
        node.Input.AddRange(["W_scale", "W_zero_point", "R_scale", "R_zero_point"]);
        q.OpsetImport.Add(new OperatorSetIdProto { Domain = "com.microsoft", Version = 1 });

        float[] x = ExportTests.Random(baseModel.Steps * baseModel.Batch * baseModel.Input, 8);
        using OnnxRecurrentModel ours = OnnxImport.Load(new MemoryStream(q.ToByteArray()));
        Assert.Equal("rnn_node (com.microsoft.DynamicQuantizeLSTM)", ours.Node.ToString());
        // Symmetric int8 loads into our int8 format as it is; uint8 (zero points ≠ 0) is dequantized to float32.
        Assert.Equal(int8Weights ? WeightFormat.Int8 : WeightFormat.Float32, ours.Network.WeightFormat);
        Assert.NotNull(ours.Quantization);
        OnnxOutputs r = ours.Run(x, baseModel.Steps, baseModel.Batch);

        // The weights as the network holds them (int8: q · scale) are the dequantized ones, so its float32 form runs
        // exactly as ORT's float LSTM on them.
        using RecurrentNetwork asFloat = ours.Network.WithWeightFormat(WeightFormat.Float32);
        using var floatModel = new OnnxRecurrentModel(ours.Node, ours.Graph, asFloat, ours.Direction, ours.Layout, ours.InitialH, ours.InitialC, null, [], null);
        OnnxOutputs floatRun = floatModel.Run(x, baseModel.Steps, baseModel.Batch);
        var exact = Ort.Run(dequantized.ToByteArray(), ("X", x, baseModel.XShape));
        Agreement.Equal(exact["Y"].Values, floatRun.Y, "Y against ORT's float LSTM on the dequantized weights");
        Agreement.Equal(exact["Y_c"].Values, floatRun.YC, "Y_c against ORT's float LSTM on the dequantized weights");
        if (!int8Weights) Assert.Equal(floatRun.Y, r.Y);

        var int8 = Ort.Run(q.ToByteArray(), ("X", x, baseModel.XShape));
        Agreement.Equal(int8["Y"].Values, r.Y, "Y against ORT's DynamicQuantizeLSTM", AgainstOrtInt8);
        Agreement.Equal(int8["Y_h"].Values, r.YH, "Y_h against ORT's DynamicQuantizeLSTM", AgainstOrtInt8);
    }

    // Per output row (or per direction) of each direction's [gh, columns] rows: symmetric int8 (zero point 0), or
    // uint8 with a zero point near 128 (one per direction, or one for all channels: ORT's kernel refuses per-channel
    // zero points that differ, "InputWeight point must be constant"); values stored transposed, [columns, gh].
    private static (int[] Values, float[] Scales, int[] Zeros, float[] Dequantized) Quantize(float[] w, int d, int gh, int columns, bool int8Weights, bool perChannel)
    {
        int groups = perChannel ? d * gh : d;
        float[] scales = new float[groups];
        int[] zeros = new int[groups];
        for (int g = 0; g < groups; g++)
        {
            float max = 0;
            for (int dir = 0; dir < d; dir++)
                for (int row = 0; row < gh; row++)
                    if ((perChannel ? (dir * gh) + row : dir) == g)
                        for (int k = 0; k < columns; k++) max = Math.Max(max, Math.Abs(w[(((dir * gh) + row) * columns) + k]));
            scales[g] = max / 120;
            zeros[g] = int8Weights ? 0 : perChannel ? 131 : 128 + (g % 5);
        }
        int[] values = new int[w.Length];
        float[] dq = new float[w.Length];
        for (int dir = 0; dir < d; dir++)
            for (int row = 0; row < gh; row++)
                for (int k = 0; k < columns; k++)
                {
                    int g = perChannel ? (dir * gh) + row : dir;
                    int at = (((dir * gh) + row) * columns) + k;
                    int v = (int)MathF.Round(w[at] / scales[g]) + zeros[g];
                    values[(((dir * columns) + k) * gh) + row] = v;
                    dq[at] = (v - zeros[g]) * scales[g];
                }
        return (values, scales, zeros, dq);
    }

    private static TensorProto Bytes(string name, long[] dims, int[] values, bool int8Weights)
    {
        var t = new TensorProto { Name = name, DataType = (int)(int8Weights ? DataType.Int8 : DataType.Uint8) };
        t.Dims.AddRange(dims);
        t.RawData = ByteString.CopyFrom([.. values.Select(v => unchecked((byte)v))]);
        return t;
    }
}
