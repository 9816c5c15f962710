using Google.Protobuf;
using Lstm.Core;
using Lstm.Onnx;
using Lstm.Onnx.Proto;

namespace Lstm.Fuzz;

/// <summary>The ONNX reader's seeds: exported networks of each kind, and hostile models.</summary>
public static partial class FuzzTargets
{
    private static List<byte[]> OnnxSeeds()
    {
        using var lstm = RecurrentNetwork.Create(new RecurrentOptions(3, 2, Layers: 2, Bidirectional: true), 1);
        using var peepholes = RecurrentNetwork.Create(new RecurrentOptions(2, 3, BatchFirst: true, Peepholes: true), 2);
        using var rnn = RecurrentNetwork.Create(new RecurrentOptions(2, 2, Cell: CellKind.Rnn), 3);

        // W declaring [1, 100000, 100000] over 16 bytes, and W kept in an external file: refused before allocating.
        ModelProto huge = ModelProto.Parser.ParseFrom(OnnxExport.ToBytes(rnn));
        TensorProto w = huge.Graph.Initializer.First(t => t.Name == "W_l0");
        w.Dims.Clear();
        w.Dims.AddRange([1, 100_000, 100_000]);
        ModelProto external = ModelProto.Parser.ParseFrom(OnnxExport.ToBytes(rnn));
        TensorProto r = external.Graph.Initializer.First(t => t.Name == "R_l0");
        r.DataLocation = TensorProto.Types.DataLocation.External;
        r.ExternalData.Add(new StringStringEntryProto { Key = "location", Value = "../../etc/passwd" });
        return
        [
            OnnxExport.ToBytes(rnn), OnnxExport.ToBytes(lstm), OnnxExport.ToBytes(peepholes),
            huge.ToByteArray(), external.ToByteArray(), DynamicQuantized(), OversizedInt8(),
        ];
    }

    // A com.microsoft DynamicQuantizeLSTM node: int8 W [1, I, 4H] and R [1, H, 4H], per-output scales, zero points 0.
    private static byte[] DynamicQuantized()
    {
        using var net = RecurrentNetwork.Create(new RecurrentOptions(2, 2), 4);
        ModelProto m = ModelProto.Parser.ParseFrom(OnnxExport.ToBytes(net));
        NodeProto node = m.Graph.Node.First(n => n.OpType == "LSTM");
        node.OpType = "DynamicQuantizeLSTM";
        node.Domain = "com.microsoft";
        while (node.Input.Count < 8) node.Input.Add("");
        foreach (var (name, columns) in new[] { ("W_l0", 2), ("R_l0", 2) })
        {
            TensorProto f = m.Graph.Initializer.First(t => t.Name == name);
            m.Graph.Initializer.Remove(f);
            byte[] q = new byte[8 * columns];
            for (int i = 0; i < q.Length; i++) q[i] = unchecked((byte)(sbyte)((i * 37 % 255) - 127));
            m.Graph.Initializer.Add(Int8(name, [1, columns, 8], q));
            m.Graph.Initializer.Add(OnnxExport.Floats(name + "_scale", [1, 8], [.. Enumerable.Range(1, 8).Select(i => i / 512f)]));
            m.Graph.Initializer.Add(Int8(name + "_zero_point", [1, 8], new byte[8]));
            node.Input.AddRange([name + "_scale", name + "_zero_point"]);
        }
        m.OpsetImport.Add(new OperatorSetIdProto { Domain = "com.microsoft", Version = 1 });
        return m.ToByteArray();
    }

    // The first finding of the onnx target: an int8 R declaring [49151, 8] over 16 bytes made the reader allocate
    // the 393,208 ints of its shape before comparing the data's length with it (1.6 MB for a 964-byte file).
    private static byte[] OversizedInt8()
    {
        ModelProto m = ModelProto.Parser.ParseFrom(DynamicQuantized());
        TensorProto r = m.Graph.Initializer.First(t => t.Name == "R_l0");
        r.Dims.Clear();
        r.Dims.AddRange([49151, 8]);
        return m.ToByteArray();
    }

    private static TensorProto Int8(string name, long[] dims, byte[] values)
    {
        var t = new TensorProto { Name = name, DataType = (int)TensorProto.Types.DataType.Int8, RawData = ByteString.CopyFrom(values) };
        t.Dims.AddRange(dims);
        return t;
    }
}
