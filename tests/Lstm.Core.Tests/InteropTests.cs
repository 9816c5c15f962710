using System.Buffers.Binary;
using Lstm.Core;
using Lstm.Core.Interop;
using Lstm.Core.NumPy;

namespace Lstm.Core.Tests;

public sealed class InteropTests : IDisposable
{
    private readonly string work = Directory.CreateTempSubdirectory("lstm-interop-").FullName;

    public void Dispose() => Directory.Delete(work, recursive: true);

    private static Dictionary<string, NpyArray> Fixture(string name) =>
        Npz.Read(Path.Combine(Helpers.SharedDirectory(), "fixtures", "pytorch-lstm", name + ".npz"));

    private static List<NamedTensor> StateDict(Dictionary<string, NpyArray> a, string prefix) =>
        a.Where(kv => kv.Key.StartsWith("weight_", StringComparison.Ordinal) || kv.Key.StartsWith("bias_", StringComparison.Ordinal))
         .Select(kv => new NamedTensor(prefix + kv.Key, kv.Value.Shape, kv.Value.ToSingle(), "F32")).ToList();

    private static void AssertRunsLikePyTorch(ImportedNetwork imported, Dictionary<string, NpyArray> a)
    {
        int[] m = a["meta"].Data.Select(v => (int)v).ToArray(); // I, H, L, D, B, T
        Assert.Equal(new RecurrentOptions(m[0], m[1], m[2], m[3] == 2), imported.Options);
        SequenceOutput r = imported.Network.Forward(a["x"].ToSingle(), m[5], m[4], a["h0"].ToSingle(), a["c0"].ToSingle());
        // As in PyTorchParityTests: two float32 implementations differ by rounding only.
        Assert.True(Helpers.WorstError(r.Output, a["y"].Data) <= 1e-5);
        Assert.True(Helpers.WorstError(r.Hn, a["hn"].Data) <= 1e-5);
        Assert.True(Helpers.WorstError(r.Cn, a["cn"].Data) <= 1e-5);
    }

    [Theory]
    [InlineData("tiny_f32", "")]
    [InlineData("stack_bidir_f32", "")]
    [InlineData("stack_bidir_f32", "lstm.")]
    [InlineData("tiny_f32", "encoder.rnn.")]
    public void SafeTensors_AndNpz_OfTheFixtures_ImportAndRunLikePyTorch(string fixture, string prefix)
    {
        var a = Fixture(fixture);
        var sd = StateDict(a, prefix);
        if (prefix.Length > 0)
        {
            sd.Add(new NamedTensor("fc.weight", [2, 3], new float[6], "F32")); // another module's key: ignored, listed
        }

        string st = Path.Combine(work, "w.safetensors");
        SafeTensors.Write(st, sd);
        ImportedNetwork fromSt = PyTorchImport.Load(st);
        Assert.Equal(prefix, fromSt.Prefix);
        Assert.Equal(prefix.Length > 0 ? ["fc.weight"] : [], fromSt.IgnoredKeys);
        AssertRunsLikePyTorch(fromSt, a);

        string npz = Path.Combine(work, "w.npz");
        Npz.Write(npz, sd.Select(t => (t.Name, t.Data, t.Shape)));
        AssertRunsLikePyTorch(PyTorchImport.Load(npz), a);
    }

    [Fact]
    public void Export_RoundTripsBitExact()
    {
        RecurrentNetwork net = RecurrentNetwork.Create(new RecurrentOptions(5, 7, Layers: 2, Bidirectional: true), 3);
        string path = Path.Combine(work, "e.safetensors");
        PyTorchImport.Export(net, path, "lstm.");
        ImportedNetwork back = PyTorchImport.Load(path);
        foreach (ParameterInfo info in net.ParameterInfos)
        {
            Helpers.AssertBitwise(net.GetParameter(info.Name), back.Network.GetParameter(info.Name), info.Name);
        }
        string again = Path.Combine(work, "again.safetensors");
        PyTorchImport.Export(back.Network, again, "lstm.");
        Assert.Equal(File.ReadAllBytes(path), File.ReadAllBytes(again));
    }

    [Theory]
    [InlineData("F64")]
    [InlineData("F16")]
    [InlineData("BF16")]
    public void OtherDTypes_ConvertToFloat32(string dtype)
    {
        float[] values = [1f, -2.5f, 0.125f, 3f];
        int size = dtype == "F64" ? 8 : 2;
        byte[] data = new byte[values.Length * size];
        for (int i = 0; i < values.Length; i++)
        {
            Span<byte> b = data.AsSpan(i * size, size);
            switch (dtype)
            {
                case "F64": BinaryPrimitives.WriteDoubleLittleEndian(b, values[i]); break;
                case "F16": BinaryPrimitives.WriteHalfLittleEndian(b, (Half)values[i]); break;
                default: BinaryPrimitives.WriteUInt16LittleEndian(b, (ushort)(BitConverter.SingleToUInt32Bits(values[i]) >> 16)); break;
            }
        }
        string header = $"{{\"t\":{{\"dtype\":\"{dtype}\",\"shape\":[2,2],\"data_offsets\":[0,{data.Length}]}}}}";
        var ms = new MemoryStream();
        ms.Write(BitConverter.GetBytes((ulong)header.Length));
        ms.Write(System.Text.Encoding.ASCII.GetBytes(header));
        ms.Write(data);
        ms.Position = 0;
        NamedTensor t = Assert.Single(SafeTensors.Read(ms));
        Assert.Equal(values, t.Data);
        Assert.Equal(dtype, t.SourceDType);
    }

    [Fact]
    public void MissingExtraAndMisShapedKeys_AreAllListed()
    {
        var sd = StateDict(Fixture("stack_bidir_f32"), "lstm.");
        sd.RemoveAll(t => t.Name == "lstm.bias_hh_l1_reverse");
        sd.Add(new NamedTensor("lstm.weight_ih_l7", [1], [0f], "F32"));
        int i = sd.FindIndex(t => t.Name == "lstm.bias_ih_l0");
        sd[i] = sd[i] with { Shape = [sd[i].Data.Length - 1], Data = sd[i].Data[1..] };
        var e = Assert.Throws<InvalidDataException>(() => PyTorchImport.FromTensors(sd));
        Assert.Contains("missing lstm.bias_hh_l1_reverse", e.Message);
        Assert.Contains("unexpected lstm.weight_ih_l7", e.Message, StringComparison.Ordinal);
        Assert.Contains("lstm.bias_ih_l0 is [63], expected [64]", e.Message);
    }

    [Fact]
    public void EveryTruncation_AndRandomBitFlips_OfASafeTensorsFile_GiveInvalidDataExceptionOrAValidRead()
    {
        RecurrentNetwork net = RecurrentNetwork.Create(new RecurrentOptions(2, 3), 1);
        string path = Path.Combine(work, "s.safetensors");
        PyTorchImport.Export(net, path);
        byte[] all = File.ReadAllBytes(path);
        for (int n = 0; n < all.Length; n++)
        {
            Assert.Throws<InvalidDataException>(() => SafeTensors.Read(new MemoryStream(all, 0, n)));
        }
        // safetensors has no checksum: a flip in the data is a valid file with another value. Structure flips must
        // be caught; either way nothing but InvalidDataException may escape.
        var rng = new Random(4);
        for (int trial = 0; trial < 2000; trial++)
        {
            byte[] flipped = (byte[])all.Clone();
            int bit = rng.Next(all.Length * 8);
            flipped[bit / 8] ^= (byte)(1 << (bit % 8));
            try
            {
                SafeTensors.Read(new MemoryStream(flipped));
            }
            catch (InvalidDataException)
            {
            }
        }
    }

    [Fact]
    public void HugeDeclaredSizes_AreRefusedBeforeAllocating()
    {
        var ms = new MemoryStream();
        ms.Write(BitConverter.GetBytes(ulong.MaxValue / 2));
        ms.Write(new byte[16]);
        ms.Position = 0;
        Assert.Contains("header claims", Assert.Throws<InvalidDataException>(() => SafeTensors.Read(ms)).Message);
    }
}
