using System.IO.Compression;
using System.IO.Hashing;

namespace Lstm.Core.NumPy;

/// <summary>
/// NumPy's <c>.npz</c>: a zip of <c>.npy</c> files (stored or deflated), keyed by name without the extension.
/// A malformed archive or member gives an <see cref="InvalidDataException"/>.
/// </summary>
public static class Npz
{
    /// <summary>
    /// Deflate cannot expand by more than about 1032:1, so a member that declares more than this ratio (plus 1 MiB of
    /// slack for tiny members) is a zip bomb or a lie, and is refused before anything is allocated.
    /// </summary>
    public const int MaxExpansionRatio = 1100;

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
            foreach (ZipArchiveEntry e in zip.Entries)
            {
                if (!e.FullName.EndsWith(".npy", StringComparison.Ordinal))
                {
                    continue;
                }
                long limit = Math.Min(Array.MaxLength, (e.CompressedLength * MaxExpansionRatio) + (1 << 20));
                if (e.Length > limit)
                {
                    throw new InvalidDataException($"The .npz member '{e.FullName}' declares {e.Length} bytes from {e.CompressedLength} compressed: refused.");
                }
                using var member = new MemoryStream();
                var crc = new Crc32();
                using (Stream z = e.Open())
                {
                    // Never trust the declared size: copy at most one byte more than it, and compare.
                    byte[] buffer = new byte[81920];
                    int read;
                    while ((read = z.Read(buffer, 0, buffer.Length)) > 0)
                    {
                        member.Write(buffer, 0, read);
                        crc.Append(buffer.AsSpan(0, read));
                        if (member.Length > e.Length)
                        {
                            throw new InvalidDataException($"The .npz member '{e.FullName}' holds more than the {e.Length} bytes it declares.");
                        }
                    }
                }
                // A flipped bit in a stored member, or one that still inflates, changes the data but not the zip's structure:
                // only the member's CRC-32 (from the central directory) tells.
                if (member.Length != e.Length || crc.GetCurrentHashAsUInt32() != e.Crc32)
                {
                    throw new InvalidDataException($"The .npz member '{e.FullName}' is corrupted: {member.Length} bytes with CRC-32 {crc.GetCurrentHashAsUInt32():x8}; the archive declares {e.Length} bytes with {e.Crc32:x8}.");
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
        AtomicFile.Write(path, s =>
        {
            using var zip = new ZipArchive(s, ZipArchiveMode.Create, leaveOpen: true);
            foreach (var (name, data, shape) in arrays)
            {
                using Stream member = zip.CreateEntry(name + ".npy", CompressionLevel.NoCompression).Open();
                Npy.Write(member, data, shape);
            }
        });
    }
}
