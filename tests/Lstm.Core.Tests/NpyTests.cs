using Lstm.Core.NumPy;

namespace Lstm.Core.Tests;

public class NpyTests
{
    [Fact]
    public void Float32AndFloat64_RoundTrip()
    {
        var ms = new MemoryStream();
        float[] f = [1.5f, -0f, float.NaN, 3e-40f, 7f, 8f];
        Npy.Write(ms, f, 2, 3);
        ms.Position = 0;
        NpyArray a = Npy.Read(ms);
        Assert.Equal("<f4", a.DType);
        Assert.Equal([2, 3], a.Shape);
        Helpers.AssertBitwise(f, a.ToSingle(), "float32");

        ms = new MemoryStream();
        Npy.Write(ms, new double[] { 1e-300, 2 }, 2);
        ms.Position = 0;
        Assert.Equal([1e-300, 2], Npy.Read(ms).Data);
    }

    [Theory]
    [InlineData("{'descr': '<f4', 'fortran_order': True, 'shape': (2,), }", "Fortran")]
    [InlineData("{'descr': '>f4', 'fortran_order': False, 'shape': (2,), }", "Big-endian")]
    [InlineData("{'descr': '|O', 'fortran_order': False, 'shape': (2,), }", "Object")]
    [InlineData("{'descr': '<c8', 'fortran_order': False, 'shape': (2,), }", "dtype")]
    [InlineData("{'descr': '<f4', 'fortran_order': False, 'shape': (100000,), }", "truncated")]
    public void Unsupported_OrTruncated_GiveInvalidDataException(string header, string messagePart)
    {
        var ms = new MemoryStream();
        ms.Write([0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y', 1, 0]);
        ms.Write(BitConverter.GetBytes((ushort)header.Length));
        ms.Write(System.Text.Encoding.ASCII.GetBytes(header));
        ms.Write(new byte[8]);
        ms.Position = 0;
        var e = Assert.Throws<InvalidDataException>(() => Npy.Read(ms));
        Assert.Contains(messagePart, e.Message, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public void EveryTruncation_OfASmallFile_GivesInvalidDataException()
    {
        var ms = new MemoryStream();
        Npy.Write(ms, new float[] { 1, 2, 3 }, 3);
        byte[] all = ms.ToArray();
        for (int n = 0; n < all.Length; n++)
        {
            Assert.Throws<InvalidDataException>(() => Npy.Read(new MemoryStream(all, 0, n)));
        }
    }

    [Fact]
    public void Npz_RoundTrips_AndRejectsGarbage()
    {
        string path = Path.Combine(Path.GetTempPath(), $"lstm-npz-{Guid.NewGuid():N}.npz");
        try
        {
            Npz.Write(path, [("a", new float[] { 1, 2 }, new[] { 2 }), ("b", new float[] { 3 }, new[] { 1, 1 })]);
            var r = Npz.Read(path);
            Assert.Equal([1f, 2f], r["a"].ToSingle());
            Assert.Equal([1, 1], r["b"].Shape);
        }
        finally
        {
            File.Delete(path);
        }
        Assert.Throws<InvalidDataException>(() => Npz.Read(new MemoryStream([1, 2, 3, 4, 5])));
    }

    [Fact]
    public void EveryTruncation_AndRandomBitFlips_OfAnNpz_GiveInvalidDataExceptionOrAValidRead()
    {
        string path = Path.Combine(Path.GetTempPath(), $"lstm-npz-fuzz-{Guid.NewGuid():N}.npz");
        byte[] all;
        try
        {
            Npz.Write(path, [("w", new float[] { 1, 2, 3, 4 }, new[] { 2, 2 }), ("b", new float[] { 5 }, new[] { 1 })]);
            all = File.ReadAllBytes(path);
        }
        finally
        {
            File.Delete(path);
        }
        for (int n = 0; n < all.Length; n++)
        {
            try
            {
                Npz.Read(new MemoryStream(all, 0, n));
            }
            catch (InvalidDataException)
            {
            }
        }
        var rng = new Random(8);
        for (int trial = 0; trial < 3000; trial++)
        {
            byte[] flipped = (byte[])all.Clone();
            int bit = rng.Next(all.Length * 8);
            flipped[bit / 8] ^= (byte)(1 << (bit % 8));
            try
            {
                Npz.Read(new MemoryStream(flipped));
            }
            catch (InvalidDataException)
            {
            }
        }
        // A zip whose end is cut off loses its central directory: that must be an error, not an empty archive.
        Assert.Throws<InvalidDataException>(() => Npz.Read(new MemoryStream(all, 0, all.Length - 1)));
    }

    [Fact]
    public void RandomBitFlips_OfAnNpy_GiveInvalidDataExceptionOrAValidRead()
    {
        var ms = new MemoryStream();
        Npy.Write(ms, new float[] { 1, 2, 3, 4, 5, 6 }, 2, 3);
        byte[] all = ms.ToArray();
        for (int bit = 0; bit < all.Length * 8; bit++)
        {
            byte[] flipped = (byte[])all.Clone();
            flipped[bit / 8] ^= (byte)(1 << (bit % 8));
            try
            {
                Npy.Read(new MemoryStream(flipped));
            }
            catch (InvalidDataException)
            {
            }
        }
    }

    [Theory]
    [InlineData(System.IO.Compression.CompressionLevel.NoCompression)]
    [InlineData(System.IO.Compression.CompressionLevel.Optimal)]
    public void EveryBitFlip_OfAnNpz_IsRefused_OrReadsTheOriginalValues(System.IO.Compression.CompressionLevel level)
    {
        // Stored and deflated members: a flip in the data must never pass as good (the member's CRC-32 catches it).
        // A flip in a name is not covered by any checksum in a zip, so a renamed member is only compared when its name is known.
        float[] w = Enumerable.Range(0, 24).Select(i => (i * 0.37f) - 3).ToArray();
        using var ms = new MemoryStream();
        using (var zip = new System.IO.Compression.ZipArchive(ms, System.IO.Compression.ZipArchiveMode.Create, leaveOpen: true))
        {
            using Stream member = zip.CreateEntry("w.npy", level).Open();
            Npy.Write(member, w, 4, 6);
        }
        byte[] all = ms.ToArray();
        int refused = 0;
        for (int bit = 0; bit < all.Length * 8; bit++)
        {
            byte[] flipped = (byte[])all.Clone();
            flipped[bit / 8] ^= (byte)(1 << (bit % 8));
            Dictionary<string, NpyArray> read;
            try
            {
                read = Npz.Read(new MemoryStream(flipped));
            }
            catch (InvalidDataException)
            {
                refused++;
                continue;
            }
            if (read.TryGetValue("w", out NpyArray? a))
            {
                Assert.Equal([4, 6], a.Shape);
                Helpers.AssertBitwise(w, a.ToSingle(), $"bit {bit}");
            }
        }
        Assert.True(refused > 0);
    }
}
