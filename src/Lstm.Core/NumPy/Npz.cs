using System.IO.Compression;

namespace Lstm.Core.NumPy;

/// <summary>
/// NumPy's <c>.npz</c>: a zip of <c>.npy</c> files (stored or deflated), keyed by name without the extension.
/// A malformed archive or member gives an <see cref="InvalidDataException"/>.
/// </summary>
public static class Npz
{
    /// <summary>The largest total of uncompressed member sizes accepted: guards against zip bombs.</summary>
    public const long MaxUncompressedBytes = 4L << 30;

    public static Dictionary<string, NpyArray> Read(string path)
    {
        using FileStream s = File.OpenRead(path);
        return Read(s);
    }

    public static Dictionary<string, NpyArray> Read(Stream stream)
    {
        var result = new Dictionary<string, NpyArray>(StringComparer.Ordinal);
        try
        {
            using var zip = new ZipArchive(stream, ZipArchiveMode.Read, leaveOpen: true);
            long total = 0;
            foreach (ZipArchiveEntry e in zip.Entries)
            {
                total += e.Length;
                if (total > MaxUncompressedBytes)
                {
                    throw new InvalidDataException($"The .npz members declare more than {MaxUncompressedBytes} bytes uncompressed.");
                }
                if (!e.FullName.EndsWith(".npy", StringComparison.Ordinal))
                {
                    continue;
                }
                using var member = new MemoryStream(checked((int)e.Length));
                using (Stream z = e.Open())
                {
                    z.CopyTo(member);
                }
                member.Position = 0;
                string name = e.FullName[..^4];
                if (!result.TryAdd(name, Npy.Read(member)))
                {
                    throw new InvalidDataException($"The .npz holds '{name}' twice.");
                }
            }
        }
        catch (InvalidDataException)
        {
            throw;
        }
        catch (Exception e) when (e is IOException or NotSupportedException or OverflowException or ArgumentException)
        {
            throw new InvalidDataException($"Not a valid .npz archive: {e.Message}", e);
        }
        return result;
    }

    /// <summary>Writes float32 arrays as a stored (uncompressed) <c>.npz</c>, through a temporary file renamed into place.</summary>
    public static void Write(string path, IEnumerable<(string Name, float[] Data, int[] Shape)> arrays)
    {
        ArgumentNullException.ThrowIfNull(arrays);
        string temp = path + ".tmp-" + Environment.ProcessId;
        using (FileStream s = File.Create(temp))
        using (var zip = new ZipArchive(s, ZipArchiveMode.Create))
        {
            foreach (var (name, data, shape) in arrays)
            {
                using Stream member = zip.CreateEntry(name + ".npy", CompressionLevel.NoCompression).Open();
                Npy.Write(member, data, shape);
            }
        }
        File.Move(temp, path, overwrite: true);
    }
}
