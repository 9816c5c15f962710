namespace Lstm.Core.IO;

/// <summary>
/// What a file's declared sizes may claim before anything is allocated for them, shared by the readers so that every
/// format refuses the same things the same way (<see cref="InvalidDataException"/>, naming the file and the shape).
/// </summary>
internal static class FileLimits
{
    /// <summary>
    /// An empty array (a zero dimension) holds no data, so its file cannot justify the size of its other dimensions,
    /// yet callers size results by them (a (0, B, I) input makes hn and cn of B rows). Such a shape may declare at
    /// most this many elements with its zero dimensions taken as 1: (0, 1024, 1024) reads, (0, 10000000, 5) does not.
    /// </summary>
    public const long MaxEmptyElements = 1 << 20;

    /// <summary>Bytes read at a time from a stream whose length is unknown; buffers grow only as data arrives.</summary>
    public const int Chunk = 1 << 16;

    /// <summary>
    /// The element count of <paramref name="dims"/>, refused (before anything is allocated) when a dimension is
    /// negative or does not fit an int, when the product (by any path, without overflow) exceeds the largest .NET
    /// array, or when an empty shape's other dimensions exceed <see cref="MaxEmptyElements"/>.
    /// </summary>
    public static int Elements(ReadOnlySpan<long> dims, string what)
    {
        long extent = 1;
        bool empty = false;
        foreach (long d in dims)
        {
            if (d < 0 || d > int.MaxValue)
            {
                throw new InvalidDataException($"{what}: shape {Text(dims)} has a dimension outside [0, {int.MaxValue}].");
            }
            if (d == 0)
            {
                empty = true;
                continue;
            }
            extent = extent <= Array.MaxLength / d ? extent * d : long.MaxValue;
            if (extent > Array.MaxLength)
            {
                throw new InvalidDataException($"{what}: shape {Text(dims)} declares more than {Array.MaxLength:N0} elements, the largest .NET array.");
            }
        }
        if (empty && extent > MaxEmptyElements)
        {
            throw new InvalidDataException($"{what}: the empty shape {Text(dims)} declares {extent:N0} elements in its other dimensions; at most {MaxEmptyElements:N0} are accepted for an array that holds no data.");
        }
        return empty ? 0 : (int)extent;
    }

    public static string Text(ReadOnlySpan<long> dims)
    {
        var parts = new string[dims.Length];
        for (int i = 0; i < dims.Length; i++) parts[i] = dims[i].ToString(System.Globalization.CultureInfo.InvariantCulture);
        return "[" + string.Join(", ", parts) + "]";
    }

    /// <summary>
    /// Reads exactly <paramref name="count"/> bytes. A seekable stream is checked against its length first; any other
    /// stream is read in <see cref="Chunk"/>s into a buffer that doubles only as bytes arrive, so a length field that
    /// lies costs at most twice what the stream actually sent. A short stream gives <see cref="InvalidDataException"/>.
    /// </summary>
    public static byte[] ReadExactly(Stream stream, long count, string what)
    {
        if (count > Array.MaxLength)
        {
            throw new InvalidDataException($"{what} declares {count:N0} bytes, more than the largest .NET array.");
        }
        if (stream.CanSeek)
        {
            long remaining = stream.Length - stream.Position;
            if (remaining < count)
            {
                throw new InvalidDataException($"{what} is truncated: it needs {count:N0} bytes, {remaining:N0} remain.");
            }
            byte[] all = new byte[count];
            stream.ReadExactly(all);
            return all;
        }
        byte[] buffer = new byte[Math.Min(count, Chunk)];
        int filled = 0;
        while (filled < count)
        {
            if (filled == buffer.Length)
            {
                Array.Resize(ref buffer, (int)Math.Min(count, 2L * buffer.Length));
            }
            int n = stream.Read(buffer, filled, buffer.Length - filled);
            if (n == 0)
            {
                throw new InvalidDataException($"{what} is truncated: it needs {count:N0} bytes, the stream ended after {filled:N0}.");
            }
            filled += n;
        }
        return buffer;
    }
}
