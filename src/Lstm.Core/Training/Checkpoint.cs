using System.Buffers.Binary;
using System.IO.Hashing;
using System.Text;
using System.Text.Json;
using Lstm.Core.IO;

namespace Lstm.Core.Training;

/// <summary>
/// A training checkpoint: string metadata (model options, optimizer, step counter, RNG state, ...) and named float32
/// tensors. On disk: the magic <c>LSTMCKPT</c>, a format version, the payload length and its XxHash64, then the
/// payload. <see cref="Save"/> writes a temporary file and renames it over the target, so a crash mid-save leaves
/// the previous checkpoint intact. <see cref="Load"/> checks every size against the file before allocating and
/// throws <see cref="InvalidDataException"/> for any truncated, corrupted or foreign file.
/// </summary>
public sealed class Checkpoint
{
    public const int FormatVersion = 1;
    private const int HeaderBytes = 8 + 4 + 8 + 8;
    private static readonly byte[] Magic = "LSTMCKPT"u8.ToArray();

    public Dictionary<string, string> Metadata { get; } = new(StringComparer.Ordinal);

    public Dictionary<string, float[]> Tensors { get; } = new(StringComparer.Ordinal);

    public string Get(string key) =>
        Metadata.TryGetValue(key, out string? v) ? v : throw new InvalidDataException($"The checkpoint has no '{key}' entry.");

    public float[] Tensor(string name) =>
        Tensors.TryGetValue(name, out float[]? v) ? v : throw new InvalidDataException($"The checkpoint has no tensor '{name}'.");

    public void Save(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        byte[] payload = Encode();
        byte[] header = new byte[HeaderBytes];
        Magic.CopyTo(header, 0);
        BinaryPrimitives.WriteInt32LittleEndian(header.AsSpan(8), FormatVersion);
        BinaryPrimitives.WriteInt64LittleEndian(header.AsSpan(12), payload.Length);
        BinaryPrimitives.WriteUInt64LittleEndian(header.AsSpan(20), XxHash64.HashToUInt64(payload));

        AtomicFile.Write(path, s =>
        {
            s.Write(header);
            s.Write(payload);
        });
    }

    /// <summary>Reads a checkpoint file; a damaged or foreign file gives an <see cref="InvalidDataException"/>.</summary>
    public static Checkpoint Load(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        using var s = File.OpenRead(path);
        return Read(s, path);
    }

    /// <summary>
    /// Reads a checkpoint from a stream; <paramref name="path"/> names it in messages. A seekable stream's length is
    /// checked against the header before reading; any other stream is read in chunks that grow only as bytes arrive.
    /// </summary>
    public static Checkpoint Read(Stream s, string path = "checkpoint")
    {
        ArgumentNullException.ThrowIfNull(s);
        if (s.CanSeek && s.Length - s.Position < HeaderBytes)
        {
            throw new InvalidDataException($"{path}: {s.Length} bytes is too short for a checkpoint.");
        }
        byte[] header = FileLimits.ReadExactly(s, HeaderBytes, path + ": the checkpoint header");
        if (!header.AsSpan(0, 8).SequenceEqual(Magic))
        {
            throw new InvalidDataException($"{path} is not an Lstm checkpoint (no LSTMCKPT magic).");
        }
        int version = BinaryPrimitives.ReadInt32LittleEndian(header.AsSpan(8));
        if (version != FormatVersion)
        {
            throw new InvalidDataException($"{path}: checkpoint format version {version}; this library reads version {FormatVersion}.");
        }
        long length = BinaryPrimitives.ReadInt64LittleEndian(header.AsSpan(12));
        if (length < 0 || (s.CanSeek && length != s.Length - s.Position))
        {
            throw new InvalidDataException($"{path}: the header declares {length} payload bytes but the file holds {(s.CanSeek ? s.Length - s.Position : "another number")}: truncated or corrupted.");
        }
        byte[] payload = FileLimits.ReadExactly(s, length, path + ": the checkpoint payload");
        if (!s.CanSeek && s.ReadByte() != -1)
        {
            throw new InvalidDataException($"{path}: the stream holds more than the {length} payload bytes its header declares.");
        }
        if (XxHash64.HashToUInt64(payload) != BinaryPrimitives.ReadUInt64LittleEndian(header.AsSpan(20)))
        {
            throw new InvalidDataException($"{path}: the checksum does not match: the file is corrupted.");
        }
        return Decode(payload, path);
    }

    private byte[] Encode()
    {
        using var ms = new MemoryStream();
        byte[] json = JsonSerializer.SerializeToUtf8Bytes(Metadata, CheckpointJson.Default.DictionaryStringString);
        Span<byte> n = stackalloc byte[8];
        BinaryPrimitives.WriteInt32LittleEndian(n, json.Length);
        ms.Write(n[..4]);
        ms.Write(json);
        BinaryPrimitives.WriteInt32LittleEndian(n, Tensors.Count);
        ms.Write(n[..4]);
        foreach (var (name, data) in Tensors)
        {
            byte[] nameBytes = Encoding.UTF8.GetBytes(name);
            BinaryPrimitives.WriteInt32LittleEndian(n, nameBytes.Length);
            ms.Write(n[..4]);
            ms.Write(nameBytes);
            BinaryPrimitives.WriteInt32LittleEndian(n, data.Length);
            ms.Write(n[..4]);
            byte[] raw = new byte[data.Length * 4];
            for (int i = 0; i < data.Length; i++) BinaryPrimitives.WriteSingleLittleEndian(raw.AsSpan(i * 4), data[i]);
            ms.Write(raw);
        }
        return ms.ToArray();
    }

    private static Checkpoint Decode(byte[] payload, string path)
    {
        var c = new Checkpoint();
        int pos = 0;
        int ReadCount(string what, int itemSize)
        {
            if (payload.Length - pos < 4) throw new InvalidDataException($"{path}: truncated in {what}.");
            int v = BinaryPrimitives.ReadInt32LittleEndian(payload.AsSpan(pos));
            pos += 4;
            if (v < 0 || (long)v * itemSize > payload.Length - pos)
            {
                throw new InvalidDataException($"{path}: {what} declares {v} items, more than the {payload.Length - pos} bytes left.");
            }
            return v;
        }
        try
        {
            int jsonLength = ReadCount("the metadata", 1);
            using (JsonDocument meta = JsonDocument.Parse(payload.AsMemory(pos, jsonLength)))
            {
                if (meta.RootElement.ValueKind != JsonValueKind.Object)
                {
                    throw new InvalidDataException($"{path}: the metadata is not a JSON object.");
                }
                foreach (JsonProperty p in meta.RootElement.EnumerateObject())
                {
                    // A key twice would leave the reader to pick one of two values: a valid hash over an ambiguous file.
                    if (p.Value.ValueKind != JsonValueKind.String || !c.Metadata.TryAdd(p.Name, p.Value.GetString()!))
                    {
                        throw new InvalidDataException($"{path}: the metadata entry '{p.Name}' is {(p.Value.ValueKind == JsonValueKind.String ? "given twice" : "not a string")}.");
                    }
                }
            }
            pos += jsonLength;
            int count = ReadCount("the tensor count", 8);
            for (int t = 0; t < count; t++)
            {
                int nameLength = ReadCount("a tensor name", 1);
                string name = Encoding.UTF8.GetString(payload, pos, nameLength);
                pos += nameLength;
                int length = ReadCount($"tensor '{name}'", 4);
                float[] data = new float[length];
                for (int i = 0; i < length; i++) data[i] = BinaryPrimitives.ReadSingleLittleEndian(payload.AsSpan(pos + (i * 4)));
                pos += length * 4;
                if (!c.Tensors.TryAdd(name, data)) throw new InvalidDataException($"{path}: tensor '{name}' appears twice.");
            }
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException) // the latter: names or values that are not valid UTF-8
        {
            throw new InvalidDataException($"{path}: the metadata is not valid JSON: {e.Message}", e);
        }
        if (pos != payload.Length)
        {
            throw new InvalidDataException($"{path}: {payload.Length - pos} unexpected bytes after the last tensor.");
        }
        return c;
    }
}

[System.Text.Json.Serialization.JsonSerializable(typeof(Dictionary<string, string>))]
internal sealed partial class CheckpointJson : System.Text.Json.Serialization.JsonSerializerContext;
