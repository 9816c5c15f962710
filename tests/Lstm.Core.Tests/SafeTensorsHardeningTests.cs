using System.Text;
using Lstm.Core.Interop;
using Lstm.Fuzz;

namespace Lstm.Core.Tests;

/// <summary>Issue 13, item 10: element counts checked, duplicated keys refused, importer errors are InvalidDataException.</summary>
public sealed class SafeTensorsHardeningTests
{
    private static byte[] File(string header, int dataBytes)
    {
        var ms = new MemoryStream();
        ms.Write(BitConverter.GetBytes((ulong)Encoding.UTF8.GetByteCount(header)));
        ms.Write(Encoding.UTF8.GetBytes(header));
        ms.Write(new byte[dataBytes]);
        return ms.ToArray();
    }

    private static string Entry(string name, string shape, long begin, long end) =>
        $"\"{name}\":{{\"dtype\":\"F32\",\"shape\":{shape},\"data_offsets\":[{begin},{end}]}}";

    [Theory]
    [InlineData("[1073741824,1073741824,4]")]   // 2^62 elements: × 4 bytes wrapped to 0, then new float[2^62]
    [InlineData("[65536,65536,65536,65536]")]   // 2^64 elements wrapped to 0: read as an empty tensor
    [InlineData("[0,4294967296]")]
    [InlineData("[3000000000]")]
    public void ElementCounts_ThatOverflowOrExceedAnArray_AreRefused(string shape)
    {
        byte[] file = File("{" + Entry("w", shape, 0, 0) + "}", 0);
        var e = Assert.Throws<InvalidDataException>(() => SafeTensors.Read(new MemoryStream(file)));
        Assert.Contains("'w'", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void DuplicatedKeys_AreRefused()
    {
        byte[] file = File("{" + Entry("w", "[1]", 0, 4) + "," + Entry("w", "[1]", 4, 8) + "}", 8);
        var e = Assert.Throws<InvalidDataException>(() => SafeTensors.Read(new MemoryStream(file)));
        Assert.Contains("'w' twice", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void NonSeekableStreams_ReadLikeFiles()
    {
        byte[] file = File("{" + Entry("a", "[2]", 0, 8) + "," + Entry("b", "[1]", 8, 12) + "}", 12);
        Assert.Equal(["a", "b"], SafeTensors.Read(new ForwardOnlyStream(file, maxRead: 5)).Select(t => t.Name));
        Assert.Throws<InvalidDataException>(() => SafeTensors.Read(new ForwardOnlyStream(file[..^1])));
    }

    private static List<NamedTensor> Lstm(int inputs, int hidden)
    {
        var r = new List<NamedTensor>();
        foreach (var (name, shape) in new[] { ("weight_ih_l0", new[] { 4 * hidden, inputs }), ("weight_hh_l0", [4 * hidden, hidden]), ("bias_ih_l0", [4 * hidden]), ("bias_hh_l0", [4 * hidden]) })
        {
            r.Add(new NamedTensor(name, shape, new float[shape.Aggregate(1, (a, b) => a * b)], "F32"));
        }
        return r;
    }

    [Fact]
    public void TheImporter_RefusesADuplicatedKey_AndAnEmptyInput_WithInvalidDataException()
    {
        List<NamedTensor> twice = Lstm(3, 7);
        twice.Add(twice[1]);
        var e = Assert.Throws<InvalidDataException>(() => PyTorchImport.FromTensors(twice));  // was ArgumentException
        Assert.Contains("weight_hh_l0", e.Message, StringComparison.Ordinal);

        e = Assert.Throws<InvalidDataException>(() => PyTorchImport.FromTensors(Lstm(0, 7)));  // [28, 0]: was ArgumentOutOfRangeException
        Assert.Contains("[28, 0]", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void TheImporter_RefusesADuplicatedKeyInAFile()
    {
        string header = "{" + Entry("weight_ih_l0", "[4,1]", 0, 16) + "," + Entry("weight_hh_l0", "[4,1]", 16, 32) + "," + Entry("weight_hh_l0", "[4,1]", 32, 48) + "," +
            Entry("bias_ih_l0", "[4]", 48, 64) + "," + Entry("bias_hh_l0", "[4]", 64, 80) + "}";
        string path = Path.Combine(Path.GetTempPath(), $"lstm-dup-{Guid.NewGuid():N}.safetensors");
        System.IO.File.WriteAllBytes(path, File(header, 80));
        try
        {
            Assert.Throws<InvalidDataException>(() => PyTorchImport.Load(path));
        }
        finally
        {
            System.IO.File.Delete(path);
        }
    }
}
