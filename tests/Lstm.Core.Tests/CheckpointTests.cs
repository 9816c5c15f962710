using Lstm.Core.Training;

namespace Lstm.Core.Tests;

public class CheckpointTests
{
    private static string SmallFile()
    {
        var c = new Checkpoint();
        c.Metadata["kind"] = "test";
        c.Tensors["w"] = [1f, 2f, 3f];
        string path = Path.Combine(Path.GetTempPath(), $"lstm-ckpt-{Guid.NewGuid():N}.ckpt");
        c.Save(path);
        return path;
    }

    [Fact]
    public void RoundTrips()
    {
        string path = SmallFile();
        try
        {
            Checkpoint c = Checkpoint.Load(path);
            Assert.Equal("test", c.Get("kind"));
            Assert.Equal([1f, 2f, 3f], c.Tensor("w"));
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void EveryTruncation_AndEveryBitFlip_GivesInvalidDataException()
    {
        string path = SmallFile();
        byte[] all = File.ReadAllBytes(path);
        File.Delete(path);
        string probe = path + ".probe";
        try
        {
            for (int n = 0; n < all.Length; n++)
            {
                File.WriteAllBytes(probe, all[..n]);
                Assert.Throws<InvalidDataException>(() => Checkpoint.Load(probe));
            }
            for (int bit = 0; bit < all.Length * 8; bit++)
            {
                byte[] flipped = (byte[])all.Clone();
                flipped[bit / 8] ^= (byte)(1 << (bit % 8));
                File.WriteAllBytes(probe, flipped);
                Assert.Throws<InvalidDataException>(() => Checkpoint.Load(probe));
            }
        }
        finally
        {
            File.Delete(probe);
        }
    }

    [Fact]
    public void Save_ReplacesAtomically_LeavingNoTemporaryFile()
    {
        string path = SmallFile();
        try
        {
            var c = new Checkpoint();
            c.Metadata["kind"] = "second";
            c.Save(path);
            Assert.Equal("second", Checkpoint.Load(path).Get("kind"));
            Assert.Single(Directory.GetFiles(Path.GetDirectoryName(path)!, "*" + Path.GetFileName(path) + "*"));
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void NonSeekableStreams_Read_AndLyingLengthsCostOnlyWhatArrived()
    {
        string path = SmallFile();
        byte[] all = File.ReadAllBytes(path);
        File.Delete(path);
        Assert.Equal([1f, 2f, 3f], Checkpoint.Read(new Lstm.Fuzz.ForwardOnlyStream(all, maxRead: 7)).Tensor("w")); // was ArgumentException
        Assert.Throws<InvalidDataException>(() => Checkpoint.Read(new Lstm.Fuzz.ForwardOnlyStream(all[..^1])));
        Assert.Throws<InvalidDataException>(() => Checkpoint.Read(new Lstm.Fuzz.ForwardOnlyStream([.. all, 0])));
        byte[] lying = (byte[])all.Clone();
        BitConverter.TryWriteBytes(lying.AsSpan(12, 8), 1L << 30);
        long before = GC.GetAllocatedBytesForCurrentThread();
        Assert.Throws<InvalidDataException>(() => Checkpoint.Read(new Lstm.Fuzz.ForwardOnlyStream(lying)));
        Assert.True(GC.GetAllocatedBytesForCurrentThread() - before < 1 << 20);
    }

    [Theory]
    [InlineData("{\"kind\":\"char-lm\",\"kind\":\"other\"}", "twice")]
    [InlineData("{\"kind\":null}", "not a string")]
    [InlineData("{\"kind\":5}", "not a string")]
    [InlineData("[\"kind\"]", "not a JSON object")]
    public void MetadataThatIsNotAMapOfStrings_IsRefused(string json, string messagePart)
    {
        // A valid hash over metadata with a key twice (which value holds?), a null or a number.
        byte[] j = System.Text.Encoding.UTF8.GetBytes(json);
        byte[] payload = [.. BitConverter.GetBytes(j.Length), .. j, .. BitConverter.GetBytes(0)];
        var e = Assert.Throws<InvalidDataException>(() => Checkpoint.Read(new MemoryStream(Lstm.Fuzz.FuzzTargets.WithValidHeader(payload))));
        Assert.Contains(messagePart, e.Message, StringComparison.Ordinal);
    }
}
