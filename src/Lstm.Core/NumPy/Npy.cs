using System.Buffers.Binary;
using System.Text;
using Lstm.Core.IO;

namespace Lstm.Core.NumPy;

/// <summary>
/// NumPy's <c>.npy</c> format (versions 1–3): little-endian float16, float32, float64, int32 and int64 in C order. Anything else
/// (Fortran order, big-endian, object arrays, other dtypes) and any malformed or truncated file gives an
/// <see cref="InvalidDataException"/>; sizes are checked against the stream's length before allocating.
/// </summary>
public static class Npy
{
    private static readonly byte[] Magic = [0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y'];

    public static NpyArray Read(string path)
    {
        using FileStream s = File.OpenRead(path);
        return Read(s);
    }

    public static NpyArray Read(Stream stream)
    {
        ArgumentNullException.ThrowIfNull(stream);
        Span<byte> head = stackalloc byte[12];
        ReadExactly(stream, head[..8], "the magic string and version");
        if (!head[..6].SequenceEqual(Magic))
        {
            throw new InvalidDataException("Not a .npy file: the magic string \\x93NUMPY is missing.");
        }
        int major = head[6];
        int headerLength;
        if (major == 1)
        {
            ReadExactly(stream, head[8..10], "the header length");
            headerLength = BinaryPrimitives.ReadUInt16LittleEndian(head[8..10]);
        }
        else if (major is 2 or 3)
        {
            ReadExactly(stream, head[8..12], "the header length");
            uint len = BinaryPrimitives.ReadUInt32LittleEndian(head[8..12]);
            headerLength = len > 1 << 20 ? throw new InvalidDataException($"The .npy header claims {len} bytes; at most 1 MiB is accepted.") : (int)len;
        }
        else
        {
            throw new InvalidDataException($"Unsupported .npy version {major}.{head[7]}; expected 1.0, 2.0 or 3.0.");
        }
        byte[] headerBytes = FileLimits.ReadExactly(stream, headerLength, "The .npy header");
        if (!IsPrintableOrSpace(headerBytes))
        {
            throw new InvalidDataException("The .npy header holds bytes that are neither printable ASCII nor whitespace.");
        }
        string header = Encoding.ASCII.GetString(headerBytes);
        var (descr, fortranOrder, dims) = NpyHeader.Parse(header);
        if (fortranOrder)
        {
            throw new InvalidDataException("Fortran-order .npy arrays are not supported; save with np.ascontiguousarray.");
        }
        int itemSize = descr switch
        {
            "<f2" => 2,
            "<f4" or "<i4" => 4,
            "<f8" or "<i8" => 8,
            _ when descr.StartsWith('>') => throw new InvalidDataException($"Big-endian .npy arrays ({descr}) are not supported."),
            _ when descr.Contains('O', StringComparison.Ordinal) => throw new InvalidDataException("Object arrays are not supported."),
            _ => throw new InvalidDataException($"Unsupported .npy dtype {descr}; expected <f2, <f4, <f8, <i4 or <i8."),
        };
        int count = FileLimits.Elements(dims, "The .npy array");
        int[] shape = Array.ConvertAll(dims, d => (int)d);
        return new NpyArray(descr, shape, ReadData(stream, descr, itemSize, count));
    }

    private static bool IsPrintableOrSpace(ReadOnlySpan<byte> bytes)
    {
        foreach (byte b in bytes)
        {
            if (b is not ((>= 0x20 and <= 0x7E) or (byte)'\t' or (byte)'\n' or (byte)'\r'))
            {
                return false;
            }
        }
        return true;
    }

    // Decodes chunk by chunk into the result, never holding the raw bytes whole. A seekable stream's length is checked
    // first, so the result is allocated once; any other stream grows it only as data arrives (a lying shape costs at
    // most twice what the stream actually sent).
    private static double[] ReadData(Stream stream, string descr, int itemSize, int count)
    {
        long bytes = (long)count * itemSize;
        if (stream.CanSeek && stream.Length - stream.Position < bytes)
        {
            throw new InvalidDataException($"The .npy file is truncated: the data needs {bytes} bytes, {stream.Length - stream.Position} remain.");
        }
        double[] data = new double[stream.CanSeek ? count : Math.Min(count, FileLimits.Chunk)];
        byte[] chunk = new byte[(int)Math.Min(bytes, FileLimits.Chunk)];
        int perChunk = chunk.Length / itemSize;
        for (int done = 0; done < count;)
        {
            int n = Math.Min(perChunk, count - done);
            ReadExactly(stream, chunk.AsSpan(0, n * itemSize), "the data");
            if (data.Length < done + n)
            {
                Array.Resize(ref data, (int)Math.Min(count, Math.Max(2L * data.Length, done + n)));
            }
            Decode(descr, chunk.AsSpan(0, n * itemSize), data.AsSpan(done, n));
            done += n;
        }
        return data;
    }

    private static void Decode(string descr, ReadOnlySpan<byte> raw, Span<double> into)
    {
        switch (descr)
        {
            case "<f2":
                for (int i = 0; i < into.Length; i++) into[i] = (double)BinaryPrimitives.ReadHalfLittleEndian(raw[(2 * i)..]);
                break;
            case "<f4":
                for (int i = 0; i < into.Length; i++) into[i] = BinaryPrimitives.ReadSingleLittleEndian(raw[(4 * i)..]);
                break;
            case "<f8":
                for (int i = 0; i < into.Length; i++) into[i] = BinaryPrimitives.ReadDoubleLittleEndian(raw[(8 * i)..]);
                break;
            case "<i4":
                for (int i = 0; i < into.Length; i++) into[i] = BinaryPrimitives.ReadInt32LittleEndian(raw[(4 * i)..]);
                break;
            default:
                for (int i = 0; i < into.Length; i++) into[i] = BinaryPrimitives.ReadInt64LittleEndian(raw[(8 * i)..]);
                break;
        }
    }

    /// <summary>Writes a float32 array as a version 1.0 <c>.npy</c> file, through a temporary file renamed into place.</summary>
    public static void Write(string path, float[] data, params int[] shape)
    {
        ArgumentNullException.ThrowIfNull(data);
        AtomicFile.Write(path, s => Write(s, data, shape));
    }

    /// <summary>Writes a float32 array as version 1.0 <c>.npy</c>.</summary>
    public static void Write(Stream stream, ReadOnlySpan<float> data, params int[] shape)
    {
        ArgumentNullException.ThrowIfNull(stream);
        WriteHeader(stream, "<f4", data.Length, shape);
        byte[] buf = new byte[data.Length * 4];
        for (int i = 0; i < data.Length; i++) BinaryPrimitives.WriteSingleLittleEndian(buf.AsSpan(i * 4), data[i]);
        stream.Write(buf);
    }

    /// <summary>Writes a float64 array as version 1.0 <c>.npy</c>.</summary>
    public static void Write(Stream stream, ReadOnlySpan<double> data, params int[] shape)
    {
        ArgumentNullException.ThrowIfNull(stream);
        WriteHeader(stream, "<f8", data.Length, shape);
        byte[] buf = new byte[data.Length * 8];
        for (int i = 0; i < data.Length; i++) BinaryPrimitives.WriteDoubleLittleEndian(buf.AsSpan(i * 8), data[i]);
        stream.Write(buf);
    }

    private static void WriteHeader(Stream stream, string descr, int length, int[] shape)
    {
        long count = shape.Aggregate(1L, (a, b) => a * b);
        if (count != length)
        {
            throw new ArgumentException($"data has {length} elements; shape [{string.Join(", ", shape)}] needs {count}.", nameof(shape));
        }
        string shapeText = shape.Length == 1 ? $"({shape[0]},)" : "(" + string.Join(", ", shape) + ")";
        string dict = $"{{'descr': '{descr}', 'fortran_order': False, 'shape': {shapeText}, }}";
        int total = Magic.Length + 4 + dict.Length + 1;
        int pad = (64 - (total % 64)) % 64;
        string header = dict + new string(' ', pad) + "\n";
        stream.Write(Magic);
        stream.Write([1, 0]);
        Span<byte> len = stackalloc byte[2];
        BinaryPrimitives.WriteUInt16LittleEndian(len, (ushort)header.Length);
        stream.Write(len);
        stream.Write(Encoding.ASCII.GetBytes(header));
    }

    private static void ReadExactly(Stream stream, Span<byte> buffer, string what)
    {
        try
        {
            stream.ReadExactly(buffer);
        }
        catch (EndOfStreamException e)
        {
            throw new InvalidDataException($"The .npy file is truncated in {what}.", e);
        }
    }
}
