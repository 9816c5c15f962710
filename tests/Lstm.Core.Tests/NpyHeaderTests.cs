using System.Text;
using Lstm.Core.NumPy;
using Lstm.Fuzz;

namespace Lstm.Core.Tests;

/// <summary>Issue 13, items 9 and 11: the .npy header is a strict dict literal, and sizes are what the file can justify.</summary>
public class NpyHeaderTests
{
    private static byte[] File(string dict, int dataBytes)
    {
        string header = dict.PadRight(((dict.Length + 11 + 63) / 64 * 64) - 11) + "\n";
        var ms = new MemoryStream();
        ms.Write([0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y', 1, 0]);
        ms.Write(BitConverter.GetBytes((ushort)header.Length));
        ms.Write(Encoding.ASCII.GetBytes(header));
        ms.Write(new byte[dataBytes]);
        return ms.ToArray();
    }

    [Theory]
    [InlineData("'descr': '<f4', 'fortran_order': False, 'shape': (2,)", "expected '{'")]
    [InlineData("{'descr': '<f8', 'descr': '<f4', 'fortran_order': False, 'shape': (2,)}", "twice")]
    [InlineData("{'descr': '<f4', 'fortran_order': False, 'shape': (2,), 'shape': (1,)}", "twice")]
    [InlineData("{'descr': '<f4', 'fortran_order': False}", "lacks 'shape'")]
    [InlineData("{'descr': '<f4', 'fortran_order': False, 'shape': (2,), 'extra': 1}", "unexpected key")]
    [InlineData("{'descr': '<f4', 'fortran_order': False, 'shape': (2)}", "not a tuple")]
    [InlineData("{'descr': '<f4', 'fortran_order': False, 'shape': (2,,)}", "integer")]
    [InlineData("{'descr': '<f4', 'fortran_order': False, 'shape': (-2,)}", "integer")]
    [InlineData("{'descr': '<f4', 'fortran_order': False, 'shape': (02,)}", "integer")]
    [InlineData("{'descr': '<f4', 'fortran_order': False, 'shape': (2,)} x", "after the closing brace")]
    [InlineData("{'descr': '<f4', 'fortran_order': false, 'shape': (2,)}", "True or False")]
    [InlineData("{'descr': '<f4' 'fortran_order': False, 'shape': (2,)}", "expected ','")]
    [InlineData("{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (2,)}", "structured")]
    [InlineData("{'descr': '<f4', 'fortran_order': False, 'shape': [2]}", "expected '('")]
    [InlineData("{'descr': '<f4', 'fortran_order': False, 'shape': (2,),,}", "quoted string")]
    public void HeadersThatAreNotAStrictDictLiteral_AreRefused(string dict, string messagePart)
    {
        var e = Assert.Throws<InvalidDataException>(() => Npy.Read(new MemoryStream(File(dict, 8))));
        Assert.Contains(messagePart, e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }", new[] { 2 })]
    [InlineData("{\"descr\": \"<f4\", \"fortran_order\": False, \"shape\": (2,)}", new[] { 2 })]
    [InlineData("{'shape': ( 1 , 2 ), 'fortran_order':False,'descr':'<f4'}", new[] { 1, 2 })]
    [InlineData("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 1,), }", new[] { 2, 1 })]
    [InlineData("{'descr': '<f4', 'fortran_order': False, 'shape': (), }", new int[0])]
    [InlineData("{'descr': '<f4', 'fortran_order': False, 'shape': (0, 1024, 1024), }", new[] { 0, 1024, 1024 })]
    public void ValidDictLiterals_Read(string dict, int[] shape)
    {
        NpyArray a = Npy.Read(new MemoryStream(File(dict, 8)));
        Assert.Equal(shape, a.Shape);
        Assert.Equal(shape.Aggregate(1, (x, y) => x * y), a.Data.Length);
    }

    [Theory]
    [InlineData("(0, 10000000, 5)")]
    [InlineData("(0, 268435455, 5)")]
    [InlineData("(5, 0, 2147483647)")]
    [InlineData("(65536, 65536, 65536, 0)")]
    public void EmptyShapes_WithHugeOtherDimensions_AreRefused(string shape)
    {
        // No data backs them, yet a caller sizes its results by them (`run` made hn and cn of 10,000,000 rows).
        var e = Assert.Throws<InvalidDataException>(() => Npy.Read(new MemoryStream(File($"{{'descr': '<f4', 'fortran_order': False, 'shape': {shape}, }}", 0))));
        Assert.Contains("shape", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void NonSeekableStreams_AllocateOnlyWhatArrived()
    {
        // A 128-byte file that declares 100,000,000 floats: the old reader allocated 400 MB (4 GB for a larger shape) before failing.
        byte[] lying = File("{'descr': '<f4', 'fortran_order': False, 'shape': (100000000,), }", 0);
        long before = GC.GetAllocatedBytesForCurrentThread();
        Assert.Throws<InvalidDataException>(() => Npy.Read(new ForwardOnlyStream(lying)));
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.True(allocated < 1 << 20, $"allocated {allocated:N0} bytes for a {lying.Length}-byte stream");
    }

    [Fact]
    public void NonSeekableStreams_ReadLargeArraysInShortPieces()
    {
        float[] values = Enumerable.Range(0, 100_003).Select(i => (i * 0.37f) - 3).ToArray();
        var ms = new MemoryStream();
        Npy.Write(ms, values, 100_003);
        ms.Write([1, 2, 3]); // what follows the array stays unread
        var s = new ForwardOnlyStream(ms.ToArray(), maxRead: 1000);
        NpyArray a = Npy.Read(s);
        Helpers.AssertBitwise(values, a.ToSingle(), "values");
        Span<byte> rest = stackalloc byte[4];
        Assert.Equal(3, s.Read(rest));
    }
}
