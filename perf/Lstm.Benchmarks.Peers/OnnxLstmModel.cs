using System.Text;

namespace Lstm.Benchmarks.Peers;

/// <summary>
/// Writes an ONNX model with one LSTM node (opset 17) holding a PyTorch-layout single-layer LSTM's weights, so ONNX
/// Runtime runs the same model. ONNX orders the gates i, o, f, c where PyTorch has i, f, g, o; W, R are
/// [1, 4H, I] and [1, 4H, H], B is [1, 8H] = bias_ih then bias_hh. A few lines of protobuf encoding, no dependency.
/// Graph inputs X [T, B, I], initial_h and initial_c [1, B, H]; outputs Y [T, 1, B, H], Y_h and Y_c [1, B, H].
/// </summary>
internal static class OnnxLstmModel
{
    public static byte[] Build(int input, int hidden, float[] weightIh, float[] weightHh, float[] biasIh, float[] biasHh)
    {
        int h = hidden;
        float[] w = ToIofc(weightIh, h, input), r = ToIofc(weightHh, h, h);
        Proto node = Node("LSTM", hidden, ["X", "W", "R", "B", "", "initial_h", "initial_c"]);
        Proto graph = Graph(node, input, hidden)
            .Msg(5, Tensor("W", [1, 4 * h, input], 1, Bytes(w)))
            .Msg(5, Tensor("R", [1, 4 * h, h], 1, Bytes(r)))
            .Msg(5, Tensor("B", [1, 8 * h], 1, Bytes(Bias(biasIh, biasHh, h))));
        return Model(graph, microsoftDomain: false);
    }

    /// <summary>
    /// The same LSTM as ONNX Runtime's own int8 LSTM: one <c>com.microsoft</c> <c>DynamicQuantizeLSTM</c> node, the form
    /// <c>onnxruntime.quantization.quantize_dynamic</c> gives an LSTM. W and R are int8, transposed to [1, in, 4H] and
    /// [1, H, 4H], symmetric per output channel (one scale per gate row, zero point 0: the same weight quantization as
    /// Lstm.Core's int8 format); ONNX Runtime quantizes the activations itself (uint8, per tensor, each step).
    /// </summary>
    public static byte[] BuildInt8(int input, int hidden, float[] weightIh, float[] weightHh, float[] biasIh, float[] biasHh)
    {
        int h = hidden;
        var (wq, ws) = QuantizeTransposed(ToIofc(weightIh, h, input), 4 * h, input);
        var (rq, rs) = QuantizeTransposed(ToIofc(weightHh, h, h), 4 * h, h);
        Proto node = Node("DynamicQuantizeLSTM", hidden,
            ["X", "W", "R", "B", "", "initial_h", "initial_c", "", "W_scale", "W_zero_point", "R_scale", "R_zero_point"])
            .Str(7, "com.microsoft");                                  // NodeProto.domain
        Proto graph = Graph(node, input, hidden)
            .Msg(5, Tensor("W", [1, input, 4 * h], 3, wq))
            .Msg(5, Tensor("R", [1, h, 4 * h], 3, rq))
            .Msg(5, Tensor("B", [1, 8 * h], 1, Bytes(Bias(biasIh, biasHh, h))))
            .Msg(5, Tensor("W_scale", [1, 4 * h], 1, Bytes(ws)))
            .Msg(5, Tensor("W_zero_point", [1, 4 * h], 3, new byte[4 * h]))
            .Msg(5, Tensor("R_scale", [1, 4 * h], 1, Bytes(rs)))
            .Msg(5, Tensor("R_zero_point", [1, 4 * h], 3, new byte[4 * h]));
        return Model(graph, microsoftDomain: true);
    }

    private static Proto Node(string op, int hidden, string[] inputs)
    {
        var node = new Proto();
        foreach (string i in inputs) node.Str(1, i);
        return node.Str(2, "Y").Str(2, "Y_h").Str(2, "Y_c")
            .Str(3, "lstm").Str(4, op)
            .Msg(5, new Proto().Str(1, "hidden_size").Int(3, hidden).Int(20, 2)); // AttributeProto, type INT
    }

    private static Proto Graph(Proto node, int input, int h) => new Proto()
        .Msg(1, node).Str(2, "lstm")
        .Msg(11, Value("X", ["T", "B", input])).Msg(11, Value("initial_h", [1, "B", h])).Msg(11, Value("initial_c", [1, "B", h]))
        .Msg(12, Value("Y", ["T", 1, "B", h])).Msg(12, Value("Y_h", [1, "B", h])).Msg(12, Value("Y_c", [1, "B", h]));

    private static byte[] Model(Proto graph, bool microsoftDomain)
    {
        var model = new Proto()
            .Int(1, 8)                                   // ir_version
            .Str(2, "Lstm.Benchmarks.Peers")             // producer_name
            .Msg(7, graph)
            .Msg(8, new Proto().Str(1, "").Int(2, 17));  // opset_import: default domain, 17
        return (microsoftDomain ? model.Msg(8, new Proto().Str(1, "com.microsoft").Int(2, 1)) : model).ToArray();
    }

    private static float[] Bias(float[] biasIh, float[] biasHh, int h) => [.. ToIofc(biasIh, h, 1), .. ToIofc(biasHh, h, 1)];

    // Rows [n, k] → int8 [k, n] (ONNX Runtime's W layout) with scale[n] = max|row n| / 127, rounded to nearest even.
    private static (byte[] Quantized, float[] Scales) QuantizeTransposed(float[] m, int rows, int cols)
    {
        byte[] q = new byte[rows * cols];
        float[] scales = new float[rows];
        for (int n = 0; n < rows; n++)
        {
            float max = 0;
            for (int k = 0; k < cols; k++) max = Math.Max(max, Math.Abs(m[(n * cols) + k]));
            float scale = max == 0 ? 1 : max / 127;
            scales[n] = scale;
            for (int k = 0; k < cols; k++)
            {
                q[(k * rows) + n] = unchecked((byte)(sbyte)Math.Clamp(MathF.Round(m[(n * cols) + k] / scale), -127, 127));
            }
        }
        return (q, scales);
    }

    private static byte[] Bytes(float[] data)
    {
        byte[] raw = new byte[data.Length * 4];
        Buffer.BlockCopy(data, 0, raw, 0, raw.Length);
        return raw;
    }

    // PyTorch rows [i; f; g; o] (each H rows of width cols) → ONNX [i; o; f; c].
    private static float[] ToIofc(float[] m, int h, int cols)
    {
        int[] from = [0, 3, 1, 2];
        float[] o = new float[m.Length];
        for (int g = 0; g < 4; g++)
        {
            Array.Copy(m, from[g] * h * cols, o, g * h * cols, h * cols);
        }
        return o;
    }

    private static Proto Tensor(string name, long[] dims, int dataType, byte[] raw)
    {
        var t = new Proto();
        foreach (long d in dims) t.Int(1, d);
        return t.Int(2, dataType).Str(8, name).Bytes(9, raw); // data_type: 1 FLOAT, 3 INT8
    }

    private static Proto Value(string name, object[] dims)
    {
        var shape = new Proto();
        foreach (object d in dims)
        {
            shape.Msg(1, d is string p ? new Proto().Str(2, p) : new Proto().Int(1, Convert.ToInt64(d, System.Globalization.CultureInfo.InvariantCulture)));
        }
        var tensorType = new Proto().Int(1, 1).Msg(2, shape);
        return new Proto().Str(1, name).Msg(2, new Proto().Msg(1, tensorType));
    }

    /// <summary>A protobuf message being written: varint and length-delimited fields only.</summary>
    private sealed class Proto
    {
        private readonly MemoryStream s = new();

        public Proto Int(int field, long value)
        {
            Varint((ulong)field << 3);
            Varint((ulong)value);
            return this;
        }

        public Proto Bytes(int field, byte[] value)
        {
            Varint(((ulong)field << 3) | 2);
            Varint((ulong)value.Length);
            s.Write(value);
            return this;
        }

        public Proto Str(int field, string value) => Bytes(field, Encoding.UTF8.GetBytes(value));

        public Proto Msg(int field, Proto value) => Bytes(field, value.ToArray());

        public byte[] ToArray() => s.ToArray();

        private void Varint(ulong v)
        {
            while (v >= 0x80)
            {
                s.WriteByte((byte)(v | 0x80));
                v >>= 7;
            }
            s.WriteByte((byte)v);
        }
    }
}
