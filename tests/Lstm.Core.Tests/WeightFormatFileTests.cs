using System.Text;
using Lstm.Core;
using Lstm.Core.Interop;
using Lstm.Simd;

namespace Lstm.Core.Tests;

/// <summary>Int8 and 16-bit networks saved as safetensors (I8 + F32 row scales, F16, BF16) and loaded back.</summary>
public sealed class WeightFormatFileTests : IDisposable
{
    private readonly string work = Directory.CreateTempSubdirectory("lstm-formats-").FullName;

    public void Dispose() => Directory.Delete(work, recursive: true);

    [Theory]
    [InlineData(WeightFormat.Int8, "I8")]
    [InlineData(WeightFormat.Float16, "F16")]
    [InlineData(WeightFormat.BFloat16, "BF16")]
    public void SavedAndLoaded_GivesTheSameBits_FromASmallerFile(WeightFormat format, string dtype)
    {
        var o = new RecurrentOptions(20, 64, Layers: 2, Bidirectional: true);
        RecurrentNetwork source = RecurrentNetwork.Create(o, seed: 3);
        RecurrentNetwork net = source.WithWeightFormat(format);
        string small = Path.Combine(work, "small.safetensors"), full = Path.Combine(work, "full.safetensors");
        PyTorchImport.Export(net, small, prefix: "lstm.");
        PyTorchImport.Export(source, full);

        IReadOnlyList<NamedTensor> tensors = SafeTensors.Read(small);
        Assert.Equal(dtype, tensors.Single(t => t.Name == "lstm.weight_hh_l1_reverse").SourceDType);
        Assert.Equal("F32", tensors.Single(t => t.Name == "lstm.bias_hh_l1_reverse").SourceDType);
        Assert.Equal(format == WeightFormat.Int8, tensors.Any(t => t.Name == "lstm.weight_hh_l1_reverse.scale"));
        Assert.True(new FileInfo(small).Length < new FileInfo(full).Length * (format == WeightFormat.Int8 ? 0.35 : 0.6));

        ImportedNetwork loaded = PyTorchImport.Load(small);
        Assert.Equal(format, loaded.Network.WeightFormat);
        Assert.Equal("lstm.", loaded.Prefix);
        float[] x = Helpers.ToFloat(Helpers.Uniform(6 * 3 * o.InputSize, 4));
        SequenceOutput expected = net.Forward(x, 6, 3), actual = loaded.Network.Forward(x, 6, 3);
        Helpers.AssertBitwise(expected.Output, actual.Output, "y");
        Helpers.AssertBitwise(expected.Hn, actual.Hn, "hn");
        Helpers.AssertBitwise(expected.Cn, actual.Cn, "cn");
        foreach (ParameterInfo info in net.ParameterInfos)
        {
            Assert.Equal(net.GetParameter(info.Name), loaded.Network.GetParameter(info.Name));
        }

        // And saved again: the same file, byte for byte.
        string again = Path.Combine(work, "again.safetensors");
        PyTorchImport.Export(loaded.Network, again, prefix: "lstm.");
        Assert.Equal(File.ReadAllBytes(small), File.ReadAllBytes(again));
    }

    private static byte[] File_(string header, byte[] data)
    {
        byte[] json = Encoding.UTF8.GetBytes(header);
        return [.. BitConverter.GetBytes((ulong)json.Length), .. json, .. data];
    }

    // A 1-layer RNN, I = 2, H = 1: weight_ih [1, 2], weight_hh [1, 1], biases [1].
    private static string Rnn(string wih, string extra = "") =>
        "{" + wih + ""","weight_hh_l0":{"dtype":"I8","shape":[1,1],"data_offsets":[2,3]},"weight_hh_l0.scale":{"dtype":"F32","shape":[1],"data_offsets":[4,8]},"bias_ih_l0":{"dtype":"F32","shape":[1],"data_offsets":[8,12]},"bias_hh_l0":{"dtype":"F32","shape":[1],"data_offsets":[12,16]}""" + extra + "}";

    public static TheoryData<string, string> BadFiles() => new()
    {
        { Rnn("""
              "weight_ih_l0":{"dtype":"I8","shape":[1,2],"data_offsets":[0,2]}
              """), "has no weight_ih_l0.scale" },
        { Rnn("""
              "weight_ih_l0":{"dtype":"I8","shape":[1,2],"data_offsets":[0,2]},"weight_ih_l0.scale":{"dtype":"F32","shape":[2],"data_offsets":[16,24]}
              """), "expected [1]" },
        { Rnn("""
              "weight_ih_l0":{"dtype":"F32","shape":[1,2],"data_offsets":[16,24]}
              """), "mix I8" },
        { Rnn("""
              "weight_ih_l0":{"dtype":"I8","shape":[1,2],"data_offsets":[0,2]},"weight_ih_l0.scale":{"dtype":"F32","shape":[1],"data_offsets":[24,28]}
              """, ""","bias_ih_l0.scale":{"dtype":"F32","shape":[1],"data_offsets":[28,32]}"""), "Unexpected scale" },
    };

    [Theory]
    [MemberData(nameof(BadFiles))]
    public void MalformedQuantizedFiles_GiveInvalidDataException_NamingTheProblem(string header, string expected)
    {
        byte[] data = new byte[32];
        BitConverter.GetBytes(0.5f).CopyTo(data, 4);
        BitConverter.GetBytes(float.NaN).CopyTo(data, 24); // only read where a case points a scale at it
        IReadOnlyList<NamedTensor> tensors = SafeTensors.Read(new MemoryStream(File_(header, data)));
        var e = Assert.Throws<InvalidDataException>(() => PyTorchImport.FromTensors(tensors));
        Assert.Contains(expected, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ANonFiniteScale_OrSixteenBitWeight_GivesInvalidDataException()
    {
        byte[] data = new byte[32];
        BitConverter.GetBytes(float.NaN).CopyTo(data, 16);
        string header = Rnn("""
            "weight_ih_l0":{"dtype":"I8","shape":[1,2],"data_offsets":[0,2]},"weight_ih_l0.scale":{"dtype":"F32","shape":[1],"data_offsets":[16,20]}
            """);
        IReadOnlyList<NamedTensor> tensors = SafeTensors.Read(new MemoryStream(File_(header, data)));
        Assert.Contains("finite", Assert.Throws<InvalidDataException>(() => PyTorchImport.FromTensors(tensors)).Message, StringComparison.Ordinal);

        byte[] half = new byte[16];
        BitConverter.GetBytes((ushort)0x7C00).CopyTo(half, 0); // +inf in float16
        string h = """{"weight_ih_l0":{"dtype":"F16","shape":[1,2],"data_offsets":[0,4]},"weight_hh_l0":{"dtype":"F16","shape":[1,1],"data_offsets":[4,6]},"bias_ih_l0":{"dtype":"F32","shape":[1],"data_offsets":[8,12]},"bias_hh_l0":{"dtype":"F32","shape":[1],"data_offsets":[12,16]}}""";
        IReadOnlyList<NamedTensor> halves = SafeTensors.Read(new MemoryStream(File_(h, half)));
        Assert.IsType<InvalidDataException>(Record.Exception(() => PyTorchImport.FromTensors(halves)));
    }

    [Fact]
    public void MixedFloatDTypes_LoadAsFloat32_AsBefore()
    {
        var o = new RecurrentOptions(3, 4);
        RecurrentNetwork net = RecurrentNetwork.Create(o, 1).WithWeightFormat(WeightFormat.Float16);
        var tensors = net.ParameterInfos.Select(i => new NamedTensor(i.Name, i.Shape, net.GetParameter(i.Name), i.Name == "weight_hh_l0" ? "F32" : "F16")).ToList();
        RecurrentNetwork loaded = PyTorchImport.FromTensors(tensors).Network;
        Assert.Equal(WeightFormat.Float32, loaded.WeightFormat);
        Assert.Equal(net.GetParameter("weight_ih_l0"), loaded.GetParameter("weight_ih_l0"));
    }

    [Fact]
    public void AnInt8WeightOfMinus128_GivesInvalidDataException()
    {
        byte[] data = new byte[32];
        data[1] = 0x80; // weight_ih_l0[0, 1] = -128: outside symmetric quantization's [-127, 127]
        BitConverter.GetBytes(0.5f).CopyTo(data, 4);
        BitConverter.GetBytes(0.25f).CopyTo(data, 16);
        string header = Rnn("""
            "weight_ih_l0":{"dtype":"I8","shape":[1,2],"data_offsets":[0,2]},"weight_ih_l0.scale":{"dtype":"F32","shape":[1],"data_offsets":[16,20]}
            """);
        IReadOnlyList<NamedTensor> tensors = SafeTensors.Read(new MemoryStream(File_(header, data)));
        Assert.Contains("-128", Assert.Throws<InvalidDataException>(() => PyTorchImport.FromTensors(tensors)).Message, StringComparison.Ordinal);
        data[1] = 0x81; // -127 is fine
        Assert.Equal(WeightFormat.Int8, PyTorchImport.FromTensors(SafeTensors.Read(new MemoryStream(File_(header, data)))).Network.WeightFormat);
    }

    [Theory]
    [InlineData(WeightFormat.Int8)]
    [InlineData(WeightFormat.Float16)]
    public void RandomBitFlips_OfAQuantizedFile_LoadOrGiveInvalidDataException(WeightFormat format)
    {
        string path = Path.Combine(work, "q.safetensors");
        PyTorchImport.Export(RecurrentNetwork.Create(new RecurrentOptions(3, 4), 1).WithWeightFormat(format), path);
        byte[] all = File.ReadAllBytes(path);
        var rng = new Random(5);
        int loaded = 0;
        for (int trial = 0; trial < 2000; trial++)
        {
            byte[] flipped = (byte[])all.Clone();
            int bit = rng.Next(all.Length * 8);
            flipped[bit / 8] ^= (byte)(1 << (bit % 8));
            try
            {
                RecurrentNetwork net = PyTorchImport.FromTensors(SafeTensors.Read(new MemoryStream(flipped))).Network;
                net.Forward(new float[2 * 3], 2, 1); // a flip in the data is a valid file with another value: it runs
                loaded++;
            }
            catch (InvalidDataException)
            {
            }
        }
        Assert.InRange(loaded, 1, 1999); // both kinds of flip were drawn
    }

    [Fact]
    public void ValuesThatTheDTypeCannotHold_AreRefusedWhenWriting()
    {
        string p = Path.Combine(work, "x.safetensors");
        Assert.Throws<ArgumentException>(() => SafeTensors.Write(p, [new NamedTensor("q", [1], [0.5f], "I8")], keepSourceDTypes: true));
        Assert.Throws<ArgumentException>(() => SafeTensors.Write(p, [new NamedTensor("q", [1], [200f], "I8")], keepSourceDTypes: true));
        Assert.Throws<ArgumentException>(() => SafeTensors.Write(p, [new NamedTensor("h", [1], [0.1f], "F16")], keepSourceDTypes: true));
        Assert.False(File.Exists(p));
        SafeTensors.Write(p, [new NamedTensor("h", [1], [0.1f], "F16")]); // without keepSourceDTypes: F32, as before
        Assert.Equal("F32", SafeTensors.Read(p)[0].SourceDType);
    }
}
