using System.Buffers.Binary;
using System.Text;
using System.Text.Json;
using Lstm.Core.IO;

namespace Lstm.Core.Interop;

/// <summary>A tensor read from a file: its shape and values as float32 (converted from F64, F16 or BF16 where needed).</summary>
public sealed record NamedTensor(string Name, int[] Shape, float[] Data, string SourceDType)
{
    public string ShapeText => "[" + string.Join(", ", Shape) + "]";
}

/// <summary>
/// The safetensors format: an 8-byte little-endian header length, a JSON header naming each tensor's dtype, shape
/// and byte range, then the raw little-endian data. Reads F32, F64, F16, BF16 and I8 (converted to float32, exactly but
/// for F64); writes F32, or F16, BF16 and I8 for quantized weights.
/// Anything malformed — a truncated file, a header or range that points outside the file, overlapping or
/// mis-sized tensors, an unsupported dtype — gives an <see cref="InvalidDataException"/>; no size is trusted before
/// it is checked against the file's length.
/// </summary>
public static class SafeTensors
{
    /// <summary>Headers larger than this are refused (the format's own reference implementation uses 100 MB).</summary>
    public const long MaxHeaderBytes = 100_000_000;

    public static IReadOnlyList<NamedTensor> Read(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        using FileStream s = File.OpenRead(path);
        return Read(s, path);
    }

    public static IReadOnlyList<NamedTensor> Read(Stream stream, string what = "safetensors data")
    {
        ArgumentNullException.ThrowIfNull(stream);
        if (!stream.CanSeek)
        {
            // A pipe has no length to check the header against: take what it sends (the buffer grows only as bytes
            // arrive), then read that as a file.
            using var copy = new MemoryStream();
            byte[] chunk = new byte[FileLimits.Chunk];
            for (int n; (n = stream.Read(chunk)) > 0;)
            {
                copy.Write(chunk, 0, n);
            }
            copy.Position = 0;
            return Read(copy, what);
        }
        long length = stream.Length - stream.Position;
        Span<byte> n8 = stackalloc byte[8];
        if (length < 8)
        {
            throw new InvalidDataException($"{what}: {length} bytes is too short for a safetensors file.");
        }
        stream.ReadExactly(n8);
        ulong headerLength = BinaryPrimitives.ReadUInt64LittleEndian(n8);
        if (headerLength > (ulong)Math.Min(MaxHeaderBytes, length - 8))
        {
            throw new InvalidDataException($"{what}: the header claims {headerLength} bytes but the file holds {length - 8} after the length field.");
        }
        byte[] header = new byte[headerLength];
        stream.ReadExactly(header);
        long dataLength = length - 8 - (long)headerLength;

        var entries = new List<(string Name, string DType, long[] Shape, long Begin, long End)>();
        var names = new HashSet<string>(StringComparer.Ordinal);
        try
        {
            using JsonDocument doc = JsonDocument.Parse(header);
            if (doc.RootElement.ValueKind != JsonValueKind.Object)
            {
                throw new InvalidDataException($"{what}: the header is not a JSON object.");
            }
            foreach (JsonProperty p in doc.RootElement.EnumerateObject())
            {
                // JSON leaves duplicated keys to the reader; two tensors of one name is never a valid file.
                if (!names.Add(p.Name))
                {
                    throw new InvalidDataException($"{what}: the header names '{p.Name}' twice.");
                }
                if (p.Name == "__metadata__") continue;
                JsonElement e = p.Value;
                string dtype = e.GetProperty("dtype").GetString() ?? "";
                long[] shape = e.GetProperty("shape").EnumerateArray().Select(d => d.GetInt64()).ToArray();
                long[] offsets = e.GetProperty("data_offsets").EnumerateArray().Select(d => d.GetInt64()).ToArray();
                if (offsets.Length != 2 || offsets[0] < 0 || offsets[1] < offsets[0] || offsets[1] > dataLength)
                {
                    throw new InvalidDataException($"{what}: tensor '{p.Name}' has data_offsets [{string.Join(", ", offsets)}] outside the {dataLength} data bytes.");
                }
                FileLimits.Elements(shape, $"{what}: tensor '{p.Name}'");
                entries.Add((p.Name, dtype, shape, offsets[0], offsets[1]));
            }
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException or KeyNotFoundException or FormatException)
        {
            throw new InvalidDataException($"{what}: malformed safetensors header: {e.Message}", e);
        }

        long cursor = 0;
        foreach (var e in entries.OrderBy(e => e.Begin))
        {
            if (e.Begin < cursor)
            {
                throw new InvalidDataException($"{what}: tensor '{e.Name}' overlaps the tensor before it.");
            }
            cursor = e.End;
        }
        byte[] data = FileLimits.ReadExactly(stream, dataLength, what);
        return entries.Select(e => Decode(e.Name, e.DType, e.Shape, data.AsSpan((int)e.Begin, (int)(e.End - e.Begin)), what)).ToList();
    }

    /// <summary>Writes float32 tensors (in the given order) through a temporary file renamed into place.</summary>
    public static void Write(string path, IEnumerable<NamedTensor> tensors) => Write(path, tensors, keepSourceDTypes: false);

    /// <summary>
    /// Writes the tensors through a temporary file renamed into place; with <paramref name="keepSourceDTypes"/>, each in
    /// its <see cref="NamedTensor.SourceDType"/> when that is F16, BF16 or I8 (for quantized weights: every value must
    /// be exactly representable, else <see cref="ArgumentException"/>), F32 otherwise.
    /// </summary>
    public static void Write(string path, IEnumerable<NamedTensor> tensors, bool keepSourceDTypes)
    {
        ArgumentNullException.ThrowIfNull(path);
        ArgumentNullException.ThrowIfNull(tensors);
        var list = tensors.ToList();
        var header = new Dictionary<string, object>(StringComparer.Ordinal);
        long offset = 0;
        foreach (NamedTensor t in list)
        {
            long count = t.Shape.Aggregate(1L, (a, b) => a * b);
            if (count != t.Data.Length)
            {
                throw new ArgumentException($"Tensor '{t.Name}' has {t.Data.Length} values; shape {t.ShapeText} needs {count}.", nameof(tensors));
            }
            string dtype = keepSourceDTypes && t.SourceDType is "F16" or "BF16" or "I8" ? t.SourceDType : "F32";
            header[t.Name] = new SafeTensorEntry(dtype, t.Shape, [offset, offset + (DTypeSize(dtype) * count)]);
            offset += DTypeSize(dtype) * count;
        }
        byte[] json = JsonSerializer.SerializeToUtf8Bytes(header.ToDictionary(kv => kv.Key, kv => (SafeTensorEntry)kv.Value), InteropJson.Default.DictionaryStringSafeTensorEntry);
        int pad = (8 - (json.Length % 8)) % 8; // the format allows trailing spaces; aligned data is friendlier to mmap
        AtomicFile.Write(path, s =>
        {
            byte[] n = new byte[8];
            BinaryPrimitives.WriteUInt64LittleEndian(n, (ulong)(json.Length + pad));
            s.Write(n);
            s.Write(json);
            s.Write(Encoding.ASCII.GetBytes(new string(' ', pad)));
            foreach (NamedTensor t in list)
            {
                s.Write(Encode(t, ((SafeTensorEntry)header[t.Name]).DType));
            }
        });
    }

    private static int DTypeSize(string dtype) => dtype switch { "F16" or "BF16" => 2, "I8" => 1, _ => 4 };

    private static byte[] Encode(NamedTensor t, string dtype)
    {
        byte[] raw = new byte[t.Data.Length * DTypeSize(dtype)];
        var half = dtype == "F16" ? Lstm.Simd.WeightFormat.Float16 : Lstm.Simd.WeightFormat.BFloat16;
        for (int i = 0; i < t.Data.Length; i++)
        {
            float v = t.Data[i];
            switch (dtype)
            {
                case "F32":
                    BinaryPrimitives.WriteSingleLittleEndian(raw.AsSpan(i * 4), v);
                    break;
                case "I8" when v is >= sbyte.MinValue and <= sbyte.MaxValue && v == MathF.Round(v):
                    raw[i] = (byte)(sbyte)v;
                    break;
                case "F16" or "BF16" when GateWeights.ToBits(v, half) is { } bits:
                    BinaryPrimitives.WriteUInt16LittleEndian(raw.AsSpan(i * 2), bits);
                    break;
                default:
                    throw new ArgumentException($"Tensor '{t.Name}' value {v} at {i} is not exactly representable in {dtype}.", nameof(t));
            }
        }
        return raw;
    }

    private static NamedTensor Decode(string name, string dtype, long[] dims, ReadOnlySpan<byte> bytes, string what)
    {
        int size = dtype switch
        {
            "F32" => 4,
            "F64" => 8,
            "F16" or "BF16" => 2,
            "I8" => 1,
            _ => throw new InvalidDataException($"{what}: tensor '{name}' has dtype {dtype}; expected F32, F64, F16, BF16 or I8."),
        };
        long count = FileLimits.Elements(dims, $"{what}: tensor '{name}'"); // checked: at most Array.MaxLength, so × size cannot wrap
        if (count * size != bytes.Length)
        {
            throw new InvalidDataException($"{what}: tensor '{name}' {dtype} {FileLimits.Text(dims)} needs {count * size} bytes; its range holds {bytes.Length}.");
        }
        var data = new float[count];
        for (int i = 0; i < count; i++)
        {
            ReadOnlySpan<byte> b = bytes.Slice(i * size, size);
            data[i] = dtype switch
            {
                "F32" => BinaryPrimitives.ReadSingleLittleEndian(b),
                "F64" => (float)BinaryPrimitives.ReadDoubleLittleEndian(b),
                "F16" => (float)BinaryPrimitives.ReadHalfLittleEndian(b),
                "I8" => (sbyte)b[0],
                _ => BitConverter.Int32BitsToSingle(BinaryPrimitives.ReadUInt16LittleEndian(b) << 16), // bfloat16: the high half of a float32
            };
        }
        return new NamedTensor(name, Array.ConvertAll(dims, d => (int)d), data, dtype);
    }
}

internal sealed record SafeTensorEntry(
    [property: System.Text.Json.Serialization.JsonPropertyName("dtype")] string DType,
    [property: System.Text.Json.Serialization.JsonPropertyName("shape")] int[] Shape,
    [property: System.Text.Json.Serialization.JsonPropertyName("data_offsets")] long[] DataOffsets);

[System.Text.Json.Serialization.JsonSerializable(typeof(Dictionary<string, SafeTensorEntry>))]
internal sealed partial class InteropJson : System.Text.Json.Serialization.JsonSerializerContext;
