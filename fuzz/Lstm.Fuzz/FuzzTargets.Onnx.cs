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
            huge.ToByteArray(), external.ToByteArray(),
        ];
    }
}
