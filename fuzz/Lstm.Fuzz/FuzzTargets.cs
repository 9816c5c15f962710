using System.IO.Compression;
using System.Text;
using Lstm.Core.Interop;
using Lstm.Core.NumPy;
using Lstm.Core.Training;

namespace Lstm.Fuzz;

/// <summary>
/// One file reader under fuzzing: the valid files mutation starts from, the call that parses a candidate, and the most
/// it may allocate for an input of a given length. The only accepted failure is <see cref="InvalidDataException"/>.
/// </summary>
public sealed record FuzzTarget(string Name, IReadOnlyList<byte[]> Seeds, Action<Stream> Parse, Func<long, long> AllocationBound);

public static class FuzzTargets
{
    // Fixed overhead any read may take whatever the input: stream and zip buffers, dictionaries, exception messages.
    private const long Overhead = 1 << 20;

    // Direct readers hold the raw bytes once and the converted floats (up to 4 bytes per 1-byte... here at most
    // float64 per float16 = 4×) once more: 16× the file bounds them with room to spare.
    private const long DirectFactor = 16;

    public static IReadOnlyList<FuzzTarget> All { get; } =
    [
        new("npy", NpySeeds(), s => Npy.Read(s), n => (DirectFactor * n) + Overhead),
        // A member may expand up to Npz.MaxExpansionRatio from its compressed size, then convert to float64 (≤ 4× of a
        // float16 member's bytes, 2× of float32's): the bound follows the ratio the reader documents.
        new("npz", NpzSeeds(), s => Npz.Read(s), n => (Npz.MaxExpansionRatio * 8L * n) + Overhead),
        new("safetensors", SafeTensorsSeeds(), s => SafeTensors.Read(s), n => (DirectFactor * n) + Overhead),
        new("checkpoint", CheckpointSeeds(), s => Checkpoint.Read(s), n => (DirectFactor * n) + Overhead),
        // A safetensors state_dict into a network, float32 or quantized (I8 + scales, F16, BF16): the reader's bytes,
        // the float32 values, the quantized copy and the packed weights, each within a few times the file.
        new("import", ImportSeeds(), s => PyTorchImport.FromTensors(SafeTensors.Read(s)), n => (DirectFactor * n) + Overhead),
    ];

    public static FuzzTarget Get(string name) =>
        All.FirstOrDefault(t => t.Name == name) ?? throw new ArgumentException($"No fuzz target '{name}'; there are: {string.Join(", ", All.Select(t => t.Name))}.", nameof(name));

    /// <summary>What one run of a candidate did: fine (read or refused) or a finding.</summary>
    public static string? Run(FuzzTarget target, byte[] input, out long allocated)
    {
        long before = GC.GetAllocatedBytesForCurrentThread();
        string? finding = null;
        try
        {
            using var s = new MemoryStream(input, writable: false);
            target.Parse(s);
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
}
