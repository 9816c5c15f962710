using System.Buffers.Binary;
using System.IO.Compression;
using System.IO.Hashing;
using System.Text;
using Lstm.Experiments;
using Lstm.Experiments.CharModel;
using Lstm.Core;
using Lstm.Core.Interop;
using Lstm.Core.NumPy;
using Lstm.Core.Training;

namespace Lstm.Fuzz;

/// <summary>
/// One file reader under fuzzing: the valid files mutation starts from, the call that parses a candidate (its bytes,
/// which the target presents as a seekable or a forward-only stream), and the most it may allocate for an input of a
/// given length. The only accepted failure is <see cref="InvalidDataException"/>.
/// </summary>
public sealed record FuzzTarget(string Name, IReadOnlyList<byte[]> Seeds, Action<byte[]> Parse, Func<long, long> AllocationBound);

public static partial class FuzzTargets
{
    // Fixed overhead any read may take whatever the input: stream and zip buffers, dictionaries, exception messages.
    private const long Overhead = 1 << 20;

    // Direct readers hold the raw bytes once and the converted floats (up to 4 bytes per 1-byte... here at most
    // float64 per float16 = 4×) once more: 16× the file bounds them with room to spare.
    private const long DirectFactor = 16;

    // A network built from a file packs its weights into 64-byte-aligned panels padded to 16 or 64 columns: for the
    // tiny seeds here (H = 2, I = 3) that is up to ~30 times the weights' bytes, plus the parameter copies.
    private const long NetworkFactor = 64;

    // The text the char-lm seeds were trained on; a resumed checkpoint must name one of its length.
    private const string CharText = "the gate keeps the cell; the cell keeps the error. ";

    private static MemoryStream Seekable(byte[] b) => new(b, writable: false);

    private static ForwardOnlyStream Pipe(byte[] b) => new(b, maxRead: 1021);

    public static IReadOnlyList<FuzzTarget> All { get; } =
    [
        new("npy", NpySeeds(), b => Npy.Read(Seekable(b)), n => (DirectFactor * n) + Overhead),
        // A member may expand up to Npz.MaxExpansionRatio from its compressed size, then convert to float64 (≤ 4× of a
        // float16 member's bytes, 2× of float32's): the bound follows the ratio the reader documents.
        new("npz", NpzSeeds(), b => Npz.Read(Seekable(b)), n => (Npz.MaxExpansionRatio * 8L * n) + Overhead),
        new("safetensors", SafeTensorsSeeds(), b => SafeTensors.Read(Seekable(b)), n => (DirectFactor * n) + Overhead),
        new("checkpoint", CheckpointSeeds(), b => Checkpoint.Read(Seekable(b)), n => (DirectFactor * n) + Overhead),
        // The same readers on a pipe (no length, short reads): buffers may only grow as bytes arrive.
        new("npy-pipe", NpySeeds(), b => Npy.Read(Pipe(b)), n => (DirectFactor * n) + Overhead),
        new("npz-pipe", NpzSeeds(), b => Npz.Read(Pipe(b)), n => (Npz.MaxExpansionRatio * 8L * n) + Overhead),
        new("safetensors-pipe", SafeTensorsSeeds(), b => SafeTensors.Read(Pipe(b)), n => (DirectFactor * n) + Overhead),
        new("checkpoint-pipe", CheckpointSeeds(), b => Checkpoint.Read(Pipe(b)), n => (DirectFactor * n) + Overhead),
        // A state_dict through the importer: the network it builds is what the file's shapes justify.
        new("pytorch-safetensors", PyTorchSafeTensorsSeeds(), b => PyTorchImport.FromTensors(SafeTensors.Read(Seekable(b))), n => (NetworkFactor * n) + Overhead),
        new("pytorch-npz", PyTorchNpzSeeds(), b => PyTorchImport.FromTensors(FromNpz(Npz.Read(Seekable(b)))), n => (Npz.MaxExpansionRatio * 8L * n) + (NetworkFactor * n) + Overhead),
        // A char-lm checkpoint's payload (metadata JSON and tensors) under a freshly computed hash, so that mutations
        // reach LoadModel and Resume instead of stopping at the checksum.
        new("char-lm", CharLmPayloadSeeds(), b =>
        {
            Checkpoint c = Checkpoint.Read(Seekable(WithValidHeader(b)));
            CharTrainer.LoadModel(c);
            CharTrainer.Resume(c, CharText);
        }, n => (NetworkFactor * n) + Overhead),
        // A safetensors state_dict into a network, float32 or quantized (I8 + scales, F16, BF16): the reader's bytes,
        // the float32 values, the quantized copy and the packed weights, each within a few times the file.
        new("import", ImportSeeds(), b => PyTorchImport.FromTensors(SafeTensors.Read(Seekable(b))), n => (DirectFactor * n) + Overhead),
        // An .onnx model through the importer (FuzzTargets.Onnx.cs): protobuf parsing, the node's checks, the network.
        new("onnx", OnnxSeeds(), b => Lstm.Onnx.OnnxImport.Load(Seekable(b)).Dispose(), n => (NetworkFactor * n) + Overhead),
    ];

    /// <summary>A checkpoint file around <paramref name="payload"/>: magic, version, length and its XxHash64.</summary>
    public static byte[] WithValidHeader(byte[] payload)
    {
        byte[] file = new byte[28 + payload.Length];
        "LSTMCKPT"u8.CopyTo(file);
        BinaryPrimitives.WriteInt32LittleEndian(file.AsSpan(8), Checkpoint.FormatVersion);
        BinaryPrimitives.WriteInt64LittleEndian(file.AsSpan(12), payload.Length);
        BinaryPrimitives.WriteUInt64LittleEndian(file.AsSpan(20), XxHash64.HashToUInt64(payload));
        payload.CopyTo(file, 28);
        return file;
    }

    private static List<NamedTensor> FromNpz(Dictionary<string, NpyArray> arrays) =>
        arrays.Select(kv => new NamedTensor(kv.Key, kv.Value.Shape, kv.Value.ToSingle(), kv.Value.DType)).ToList();

    public static FuzzTarget Get(string name) =>
        All.FirstOrDefault(t => t.Name == name) ?? throw new ArgumentException($"No fuzz target '{name}'; there are: {string.Join(", ", All.Select(t => t.Name))}.", nameof(name));

    /// <summary>What one run of a candidate did: fine (read or refused) or a finding.</summary>
    public static string? Run(FuzzTarget target, byte[] input, out long allocated)
    {
        long before = GC.GetAllocatedBytesForCurrentThread();
        string? finding = null;
        try
        {
            target.Parse(input);
        }
        catch (InvalidDataException)
        {
        }
        catch (Exception e)
        {
            finding = $"{e.GetType().Name}: {e.Message}";
        }
        allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        if (finding is null && allocated > target.AllocationBound(input.Length))
        {
            finding = $"allocated {allocated:N0} bytes for a {input.Length:N0}-byte input (bound {target.AllocationBound(input.Length):N0})";
        }
        return finding;
    }

    private static float[] Ramp(int n) => Enumerable.Range(0, n).Select(i => (i * 0.37f) - 3).ToArray();

    private static byte[] NpyBytes(float[] data, params int[] shape)
    {
        using var ms = new MemoryStream();
        Npy.Write(ms, data, shape);
        return ms.ToArray();
    }

    private static byte[] NpyText(string descr, string shape, int dataBytes)
    {
        string dict = $"{{'descr': '{descr}', 'fortran_order': False, 'shape': {shape}, }}";
        dict = dict.PadRight(((dict.Length + 11 + 63) / 64 * 64) - 11) + "\n";
        var ms = new MemoryStream();
        ms.Write("\x93NUMPY"u8);
        ms.Write([1, 0, (byte)(dict.Length & 0xFF), (byte)(dict.Length >> 8)]);
        ms.Write(Encoding.ASCII.GetBytes(dict));
        ms.Write(new byte[dataBytes]);
        return ms.ToArray();
    }

    private static List<byte[]> NpySeeds()
    {
        using var f64 = new MemoryStream();
        Npy.Write(f64, Ramp(6).Select(v => (double)v).ToArray(), 2, 3);
        return
        [
            NpyBytes(Ramp(12), 3, 4), f64.ToArray(), NpyBytes([], 0), NpyBytes(Ramp(5), 5),
            NpyText("<f2", "(4,)", 8), NpyText("<i4", "(2, 2)", 16), NpyText("<i8", "(3,)", 24),
            NpyText("<f4", "(100000000000,)", 16), NpyText(">f4", "(2,)", 8), NpyText("|b1", "(2,)", 2),
        ];
    }

    private static byte[] Zip(CompressionLevel level, params (string Name, byte[] Data)[] members)
    {
        using var ms = new MemoryStream();
        using (var zip = new ZipArchive(ms, ZipArchiveMode.Create, leaveOpen: true))
        {
            foreach (var (name, data) in members)
            {
                using Stream s = zip.CreateEntry(name, level).Open();
                s.Write(data);
            }
        }
        return ms.ToArray();
    }

    private static List<byte[]> NpzSeeds()
    {
        byte[] a = NpyBytes(Ramp(12), 3, 4), b = NpyBytes(Ramp(7), 7);
        byte[] inner = Zip(CompressionLevel.Optimal, ("a.npy", a));
        return
        [
            Zip(CompressionLevel.NoCompression, ("a.npy", a), ("b.npy", b)),
            Zip(CompressionLevel.Optimal, ("a.npy", a), ("b.npy", b)),
            Zip(CompressionLevel.Optimal, ("nested.npy", inner), ("x.npz", inner)),               // a zip inside a zip
            Zip(CompressionLevel.Optimal, ("bomb.npy", NpyText("<f4", "(4000000,)", 16_000_000))), // 16 MB of zeros, ~16 KB
            Zip(CompressionLevel.NoCompression, ("a.npy", a), ("a.npy", b)),                       // a name twice
        ];
    }

    private static byte[] ViaFile(Action<string> write)
    {
        string path = Path.Combine(Path.GetTempPath(), $"lstm-fuzz-seed-{Guid.NewGuid():N}");
        try
        {
            write(path);
            return File.ReadAllBytes(path);
        }
        finally
        {
            File.Delete(path);
        }
    }

    private static byte[] SafeTensorsText(string header, int dataBytes)
    {
        byte[] h = Encoding.UTF8.GetBytes(header);
        byte[] file = new byte[8 + h.Length + dataBytes];
        BitConverter.TryWriteBytes(file.AsSpan(0, 8), (long)h.Length);
        h.CopyTo(file, 8);
        return file;
    }

    private static List<byte[]> SafeTensorsSeeds() =>
    [
        ViaFile(p => SafeTensors.Write(p, [new NamedTensor("weight_ih_l0", [8, 3], Ramp(24), "F32"), new NamedTensor("bias_ih_l0", [8], Ramp(8), "F32")])),
        SafeTensorsText("""{"a":{"dtype":"F16","shape":[2,2],"data_offsets":[0,8]},"b":{"dtype":"BF16","shape":[2],"data_offsets":[8,12]}}""", 12),
        SafeTensorsText("""{"__metadata__":{"format":"pt"},"w":{"dtype":"F64","shape":[3],"data_offsets":[0,24]}}""", 24),
        SafeTensorsText("""{"w":{"dtype":"F32","shape":[100000,100000],"data_offsets":[0,16]}}""", 16),
        // Quantized weights as PyTorchImport.Export writes them: I8 with F32 row scales, and F16.
        ViaFile(p => SafeTensors.Write(p, [new NamedTensor("weight_ih_l0", [4, 3], [.. Enumerable.Range(-6, 12).Select(i => i * 10f)], "I8"),
            new NamedTensor("weight_ih_l0.scale", [4], [0.01f, 0.02f, 0.5f, 0f], "F32"), new NamedTensor("weight_hh_l0", [2, 2], [0.5f, -2f, 1024f, 0f], "F16")], keepSourceDTypes: true)),
    ];

    private static List<byte[]> ImportSeeds()
    {
        var lstm = Lstm.Core.RecurrentNetwork.Create(new Lstm.Core.RecurrentOptions(3, 4, Layers: 2, Bidirectional: true), 1);
        var rnn = Lstm.Core.RecurrentNetwork.Create(new Lstm.Core.RecurrentOptions(2, 5, Cell: Lstm.Core.CellKind.Rnn), 2);
        return
        [
            ViaFile(p => PyTorchImport.Export(lstm, p, "lstm.")),
            ViaFile(p => PyTorchImport.Export(lstm.WithWeightFormat(Lstm.Simd.WeightFormat.Int8), p)),
            ViaFile(p => PyTorchImport.Export(rnn.WithWeightFormat(Lstm.Simd.WeightFormat.Float16), p)),
            ViaFile(p => PyTorchImport.Export(rnn.WithWeightFormat(Lstm.Simd.WeightFormat.BFloat16), p)),
            ViaFile(p => PyTorchImport.Export(Lstm.Core.RecurrentNetwork.Create(new Lstm.Core.RecurrentOptions(3, 2, Cell: Lstm.Core.CellKind.Gru), 3)
                .WithWeightFormat(Lstm.Simd.WeightFormat.Int8), p, "gru.")),
            // Issue 14: projections without bias, a cell module (keys without _l0), and two modules in one file.
            ViaFile(p => PyTorchImport.Export(Lstm.Core.RecurrentNetwork.Create(new Lstm.Core.RecurrentOptions(3, 4, Bidirectional: true, Bias: false, ProjectionSize: 2), 3), p)),
            ViaFile(p => SafeTensors.Write(p, rnn.ParameterInfos.Select(i => new NamedTensor("cell." + i.Name.Replace("_l0", "", StringComparison.Ordinal), i.Shape, rnn.GetParameter(i.Name), "F32")))),
            ViaFile(p => SafeTensors.Write(p, lstm.ParameterInfos.Select(i => new NamedTensor("encoder." + i.Name, i.Shape, lstm.GetParameter(i.Name), "F32"))
                .Concat(rnn.ParameterInfos.Select(i => new NamedTensor("decoder." + i.Name, i.Shape, rnn.GetParameter(i.Name), "F32"))))),
        ];
    }

    private static List<byte[]> CheckpointSeeds()
    {
        var c = new Checkpoint();
        c.Metadata["kind"] = "fuzz";
        c.Metadata["vocabulary"] = "abc";
        c.Tensors["w"] = Ramp(40);
        c.Tensors["b"] = Ramp(3);
        var empty = new Checkpoint();
        return [ViaFile(c.Save), ViaFile(empty.Save)];
    }

    private static List<NamedTensor> StateDict(RecurrentOptions options, string prefix)
    {
        RecurrentNetwork net = RecurrentNetwork.Create(options, 5);
        return net.ParameterInfos.Select(i => new NamedTensor(prefix + i.Name, i.Shape, net.GetParameter(i.Name), "F32")).ToList();
    }

    private static List<List<NamedTensor>> StateDicts()
    {
        List<NamedTensor> twice = StateDict(new RecurrentOptions(3, 2), "");
        twice.Add(twice[1]);
        return
        [
            StateDict(new RecurrentOptions(3, 2), ""),
            StateDict(new RecurrentOptions(3, 2, Layers: 2, Bidirectional: true), "lstm."),
            StateDict(new RecurrentOptions(3, 2, Cell: CellKind.Rnn), "rnn."),
            StateDict(new RecurrentOptions(2, 2, Peepholes: true), ""),
            [new("weight_ih_l0", [8, 0], [], "F32"), new("weight_hh_l0", [8, 2], new float[16], "F32"), new("bias_ih_l0", [8], new float[8], "F32"), new("bias_hh_l0", [8], new float[8], "F32")],
            twice,
            StateDict(new RecurrentOptions(3, 2, Layers: 2, Bidirectional: true, Cell: CellKind.Gru), "gru."),
        ];
    }

    private static byte[] SafeTensorsOf(List<NamedTensor> tensors)
    {
        // Written by hand rather than by SafeTensors.Write, which (rightly) refuses a duplicated name.
        var header = new StringBuilder("{");
        long offset = 0;
        foreach (NamedTensor t in tensors)
        {
            header.Append(System.Globalization.CultureInfo.InvariantCulture, $"\"{t.Name}\":{{\"dtype\":\"F32\",\"shape\":[{string.Join(",", t.Shape)}],\"data_offsets\":[{offset},{offset + (4 * t.Data.Length)}]}},");
            offset += 4 * t.Data.Length;
        }
        header[^1] = '}';
        byte[] file = SafeTensorsText(header.ToString(), (int)offset);
        int at = file.Length - (int)offset;
        foreach (NamedTensor t in tensors)
        {
            foreach (float v in t.Data)
            {
                BinaryPrimitives.WriteSingleLittleEndian(file.AsSpan(at), v);
                at += 4;
            }
        }
        return file;
    }

    private static List<byte[]> PyTorchSafeTensorsSeeds() => StateDicts().Select(SafeTensorsOf).ToList();

    private static List<byte[]> PyTorchNpzSeeds() =>
        StateDicts().Take(5).Select(sd => Zip(CompressionLevel.NoCompression, [.. sd.Select(t => (t.Name + ".npy", NpyBytes(t.Data, t.Shape)))])).ToList();

    private static List<byte[]> CharLmPayloadSeeds()
    {
        byte[] Trained(CharModelOptions o, int steps)
        {
            var trainer = new CharTrainer(CharLanguageModel.Create(CharText, o), CharText);
            for (int i = 0; i < steps; i++) trainer.TrainStep();
            return ViaFile(trainer.Save)[28..];
        }
        var tiny = new CharModelOptions { Hidden = 2, Layers = 2, SequenceLength = 4, Batch = 2, Dropout = 0.25f, Optimizer = OptimizerKind.Adam, Seed = 4 };
        var huge = new Checkpoint();
        foreach (var (k, v) in new Dictionary<string, string> { ["kind"] = "char-lm", ["vocabulary"] = "ab", ["hidden"] = "23170", ["layers"] = "1", ["dropout"] = "0", ["sequenceLength"] = "4", ["batch"] = "1", ["learningRate"] = "0.1", ["optimizer"] = "sgd", ["clipNorm"] = "5", ["decayEvery"] = "0", ["decayFactor"] = "1", ["seed"] = "1" })
        {
            huge.Metadata[k] = v;
        }
        foreach (string name in new[] { "net.weight_ih_l0", "net.weight_hh_l0", "net.bias_ih_l0", "net.bias_hh_l0", "head.weight", "head.bias" })
        {
            huge.Tensors[name] = [];
        }
        return [Trained(tiny, 1), Trained(tiny with { Layers = 1, Optimizer = OptimizerKind.Sgd, Dropout = 0 }, 0), ViaFile(huge.Save)[28..]];
    }
}
