using System.Buffers.Binary;
using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace Lstm.Core.NumPy;

/// <summary>
/// NumPy's <c>.npy</c> format (versions 1–3): little-endian float16, float32, float64, int32 and int64 in C order. Anything else
/// (Fortran order, big-endian, object arrays, other dtypes) and any malformed or truncated file gives an
/// <see cref="InvalidDataException"/>; sizes are checked against the stream's length before allocating.
/// </summary>
public static partial class Npy
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
        CheckRemaining(stream, headerLength, "the header");
        byte[] headerBytes = new byte[headerLength];
        ReadExactly(stream, headerBytes, "the header");
        string header = Encoding.UTF8.GetString(headerBytes);

        string descr = Field(header, "descr", DescrPattern());
        string fortran = Field(header, "fortran_order", FortranPattern());
        if (fortran != "False")
        {
            throw new InvalidDataException("Fortran-order .npy arrays are not supported; save with np.ascontiguousarray.");
        }
        string shapeText = Field(header, "shape", ShapePattern());
        int[] shape = shapeText.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(v => int.TryParse(v, NumberStyles.None, CultureInfo.InvariantCulture, out int d) ? d : throw new InvalidDataException($"Bad .npy shape ({shapeText}).")).ToArray();
        int itemSize = descr switch
        {
            "<f2" => 2,
            "<f4" or "<i4" => 4,
            "<f8" or "<i8" => 8,
            _ when descr.StartsWith('>') => throw new InvalidDataException($"Big-endian .npy arrays ({descr}) are not supported."),
            _ when descr.Contains('O', StringComparison.Ordinal) => throw new InvalidDataException("Object arrays are not supported."),
            _ => throw new InvalidDataException($"Unsupported .npy dtype {descr}; expected <f2, <f4, <f8, <i4 or <i8."),
        };
        long count = 1;
        foreach (int d in shape)
        {
            count *= d;
            if (count > Array.MaxLength)
            {
                throw new InvalidDataException($"The .npy shape ({shapeText}) is too large.");
            }
        }
        long bytes = count * itemSize;
        CheckRemaining(stream, bytes, "the data");
        byte[] raw = new byte[bytes];
        ReadExactly(stream, raw, "the data");
        var data = new double[count];
        for (int i = 0; i < count; i++)
        {
            ReadOnlySpan<byte> b = raw.AsSpan(i * itemSize, itemSize);
            data[i] = descr switch
            {
                "<f2" => (double)BinaryPrimitives.ReadHalfLittleEndian(b),
                "<f4" => BinaryPrimitives.ReadSingleLittleEndian(b),
                "<f8" => BinaryPrimitives.ReadDoubleLittleEndian(b),
                "<i4" => BinaryPrimitives.ReadInt32LittleEndian(b),
                _ => BinaryPrimitives.ReadInt64LittleEndian(b),
            };
        }
        return new NpyArray(descr, shape, data);
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

    private static string Field(string header, string name, Regex pattern)
    {
        Match m = pattern.Match(header);
        return m.Success ? m.Groups[1].Value : throw new InvalidDataException($"The .npy header has no valid '{name}': {header.Trim()}");
    }

    private static void CheckRemaining(Stream stream, long needed, string what)
    {
        if (stream.CanSeek && stream.Length - stream.Position < needed)
        {
            throw new InvalidDataException($"The .npy file is truncated: {what} needs {needed} bytes, {stream.Length - stream.Position} remain.");
        }
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

    [GeneratedRegex(@"'descr'\s*:\s*'([^']*)'")]
    private static partial Regex DescrPattern();

    [GeneratedRegex(@"'fortran_order'\s*:\s*(True|False)")]
    private static partial Regex FortranPattern();

    [GeneratedRegex(@"'shape'\s*:\s*\(([^)]*)\)")]
    private static partial Regex ShapePattern();
}
