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
        float[] b = [.. ToIofc(biasIh, h, 1), .. ToIofc(biasHh, h, 1)];

        var node = new Proto()
            .Str(1, "X").Str(1, "W").Str(1, "R").Str(1, "B").Str(1, "").Str(1, "initial_h").Str(1, "initial_c")
            .Str(2, "Y").Str(2, "Y_h").Str(2, "Y_c")
            .Str(3, "lstm").Str(4, "LSTM")
            .Msg(5, new Proto().Str(1, "hidden_size").Int(3, hidden).Int(20, 2)); // AttributeProto, type INT
        var graph = new Proto()
            .Msg(1, node).Str(2, "lstm")
            .Msg(5, Tensor("W", [1, 4 * h, input], w))
            .Msg(5, Tensor("R", [1, 4 * h, h], r))
            .Msg(5, Tensor("B", [1, 8 * h], b))
            .Msg(11, Value("X", ["T", "B", input])).Msg(11, Value("initial_h", [1, "B", h])).Msg(11, Value("initial_c", [1, "B", h]))
            .Msg(12, Value("Y", ["T", 1, "B", h])).Msg(12, Value("Y_h", [1, "B", h])).Msg(12, Value("Y_c", [1, "B", h]));
        return new Proto()
            .Int(1, 8)                                   // ir_version
            .Str(2, "Lstm.Benchmarks.Peers")             // producer_name
            .Msg(7, graph)
            .Msg(8, new Proto().Str(1, "").Int(2, 17))   // opset_import: default domain, 17
            .ToArray();
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

    private static Proto Tensor(string name, long[] dims, float[] data)
    {
        var t = new Proto();
        foreach (long d in dims) t.Int(1, d);
        byte[] raw = new byte[data.Length * 4];
        Buffer.BlockCopy(data, 0, raw, 0, raw.Length);
        return t.Int(2, 1).Str(8, name).Bytes(9, raw); // data_type FLOAT
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
