using Lstm.Core;
using Lstm.Core.NumPy;

namespace Lstm.Core.Tests;

/// <summary>Setting, reading, resetting, exporting and importing a stream's state (issue 12, item 1).</summary>
public class StreamStateTests
{
    public static TheoryData<CellKind, bool, int> Variants()
    {
        var d = new TheoryData<CellKind, bool, int>();
        foreach (int threads in new[] { 1, 2, 3 })
        {
            d.Add(CellKind.Lstm, false, threads);
            d.Add(CellKind.Lstm, true, threads);
            d.Add(CellKind.Rnn, false, threads);
        }
        return d;
    }

    private static RecurrentOptions Options(CellKind cell, bool peepholes) =>
        new(7, 130, Layers: 2, Cell: cell, Peepholes: peepholes);

    private static float[] Steps(RecurrentNetwork net, StreamState s, float[] x, int from, int to)
    {
        int b = s.Batch, i = net.Options.InputSize, h = net.Options.HiddenSize;
        float[] y = new float[(to - from) * b * h];
        for (int t = from; t < to; t++)
        {
            net.Step(s, x.AsSpan(t * b * i, b * i), y.AsSpan((t - from) * b * h, b * h));
        }
        return y;
    }

    [Theory]
    [MemberData(nameof(Variants))]
    public void StreamFromASequencesHnCn_GoesOnBitForBit(CellKind cell, bool peepholes, int threads)
    {
        // Tolerance 0: the stream's step runs the same GEMM chains and cell as the sequence pass, from the same h and c.
        RecurrentOptions o = Options(cell, peepholes);
        const int T = 12, Split = 5, B = 3;
        using RecurrentNetwork net = RecurrentNetwork.Create(o, 3);
        float[] x = Helpers.ToFloat(Helpers.Uniform(T * B * 7, 4));
        SequenceOutput whole = net.Forward(x, T, B);
        SequenceOutput head = net.Forward(x.AsSpan(0, Split * B * 7), Split, B);

        using StreamState s = net.CreateStream(B, threads);
        s.SetState(head.Hn, cell == CellKind.Lstm ? head.Cn : default);
        float[] y = Steps(net, s, x, Split, T);

        Helpers.AssertBitwise(whole.Output.AsSpan(Split * B * 130).ToArray(), y, "y after the split");
        float[] hn = new float[2 * B * 130], cn = new float[cell == CellKind.Lstm ? 2 * B * 130 : 0];
        s.GetState(hn, cn);
        Helpers.AssertBitwise(whole.Hn, hn, "hn");
        Helpers.AssertBitwise(whole.Cn, cn, "cn");
    }

    [Fact]
    public void StreamFromPyTorchsH0C0_GivesPyTorchsOutputs()
    {
        var a = Npz.Read(Path.Combine(Helpers.SharedDirectory(), "fixtures", "pytorch-lstm", "tiny_f32.npz"));
        int[] m = a["meta"].Data.Select(v => (int)v).ToArray(); // I, H, L, D, B, T
        var o = new RecurrentOptions(m[0], m[1], m[2]);
        int b = m[4], t = m[5];
        using RecurrentNetwork net = RecurrentNetwork.FromParameters(o, ParameterLayout.For(o).ToDictionary(i => i.Name, i => a[i.Name].ToSingle()));
        using StreamState s = net.CreateStream(b);
        s.SetState(a["h0"].ToSingle(), a["c0"].ToSingle());
        float[] y = Steps(net, s, a["x"].ToSingle(), 0, t);
        // As PyTorchParityTests: two float32 implementations differ by rounding only, a few ulp per operation over 6 steps.
        Assert.InRange(Helpers.WorstError(y, a["y"].Data), 0, 1e-5);
        float[] hn = new float[m[1] * b], cn = new float[m[1] * b];
        s.GetState(hn, cn);
        Assert.InRange(Helpers.WorstError(hn, a["hn"].Data), 0, 1e-5);
        Assert.InRange(Helpers.WorstError(cn, a["cn"].Data), 0, 1e-5);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public void ResetRow_RestartsThatRowAlone(int threads)
    {
        // Rows never mix (each output is its own FMA chain), so the others go on bit for bit and the reset row equals a
        // fresh one-row stream fed the same inputs.
        RecurrentOptions o = Options(CellKind.Lstm, false);
        const int T = 8, B = 3, Reset = 1;
        using RecurrentNetwork net = RecurrentNetwork.Create(o, 5);
        float[] x = Helpers.ToFloat(Helpers.Uniform(T * B * 7, 6));
        using StreamState plain = net.CreateStream(B, threads), reset = net.CreateStream(B, threads);
        float[] before = Steps(net, plain, x, 0, 4);
        Helpers.AssertBitwise(before, Steps(net, reset, x, 0, 4), "before the reset");
        reset.ResetRow(Reset);
        float[] yPlain = Steps(net, plain, x, 4, T), yReset = Steps(net, reset, x, 4, T);

        using StreamState fresh = net.CreateStream(1);
        float[] xRow = new float[(T - 4) * 7];
        for (int t = 4; t < T; t++) x.AsSpan(((t * B) + Reset) * 7, 7).CopyTo(xRow.AsSpan((t - 4) * 7));
        float[] yFresh = Steps(net, fresh, xRow, 0, T - 4);
        for (int t = 0; t < T - 4; t++)
        {
            for (int r = 0; r < B; r++)
            {
                float[] got = yReset.AsSpan(((t * B) + r) * 130, 130).ToArray();
                float[] want = r == Reset ? yFresh.AsSpan(t * 130, 130).ToArray() : yPlain.AsSpan(((t * B) + r) * 130, 130).ToArray();
                Helpers.AssertBitwise(want, got, $"step {t}, row {r}");
            }
        }
    }

    [Theory]
    [InlineData(2, 1)]
    [InlineData(1, 3)]
    public void ExportImport_MovesAStreamToAnotherNetworkInstance_SameBits(int fromThreads, int toThreads)
    {
        RecurrentOptions o = Options(CellKind.Lstm, true);
        const int T = 10, B = 2;
        using RecurrentNetwork a = RecurrentNetwork.Create(o, 9);
        using RecurrentNetwork b = RecurrentNetwork.FromParameters(o, a.ParameterInfos.ToDictionary(i => i.Name, i => a.GetParameter(i.Name)));
        float[] x = Helpers.ToFloat(Helpers.Uniform(T * B * 7, 10));
        using StreamState source = a.CreateStream(B, fromThreads);
        Steps(a, source, x, 0, 5);
        byte[] saved = source.Export();
        Assert.Equal(source.ExportLength(B), saved.Length);

        using StreamState moved = b.CreateStream(B, toThreads);
        moved.Import(saved);
        Assert.Equal(5, moved.Steps);
        Helpers.AssertBitwise(Steps(a, source, x, 5, T), Steps(b, moved, x, 5, T), "y after the move");
    }

    [Fact]
    public void ExportRow_ImportRow_MovesOneSessionIntoAnotherRow()
    {
        RecurrentOptions o = Options(CellKind.Lstm, false);
        using RecurrentNetwork net = RecurrentNetwork.Create(o, 11);
        float[] x = Helpers.ToFloat(Helpers.Uniform(6 * 7, 12));
        using StreamState one = net.CreateStream(1), many = net.CreateStream(4, 2);
        Steps(net, one, x, 0, 3);
        Span<byte> row = new byte[one.ExportLength(1)];
        Assert.Equal(row.Length, one.ExportRow(0, row));
        many.ImportRow(2, row);

        float[] hOne = new float[2 * 130], cOne = new float[2 * 130], hMany = new float[2 * 130], cMany = new float[2 * 130];
        one.GetRow(0, hOne, cOne);
        many.GetRow(2, hMany, cMany);
        Helpers.AssertBitwise(hOne, hMany, "h");
        Helpers.AssertBitwise(cOne, cMany, "c");
        many.GetRow(1, hMany, cMany);
        Assert.All(hMany.Concat(cMany), v => Assert.Equal(0f, v));
    }

    [Fact]
    public void Import_RejectsCorruptTruncatedAndForeignStates()
    {
        RecurrentOptions o = Options(CellKind.Lstm, false);
        using RecurrentNetwork net = RecurrentNetwork.Create(o, 13);
        using StreamState s = net.CreateStream(2);
        Steps(net, s, Helpers.ToFloat(Helpers.Uniform(3 * 2 * 7, 14)), 0, 3);
        byte[] good = s.Export();

        for (int i = 0; i < good.Length; i += 97)
        {
            byte[] flipped = (byte[])good.Clone();
            flipped[i] ^= 0x10;
            Assert.Throws<InvalidDataException>(() => s.Import(flipped));
        }
        Assert.Throws<InvalidDataException>(() => s.Import(good.AsSpan(0, good.Length - 1)));
        Assert.Throws<InvalidDataException>(() => s.Import(ReadOnlySpan<byte>.Empty));

        using RecurrentNetwork other = RecurrentNetwork.Create(o with { HiddenSize = 129 }, 13);
        using StreamState foreign = other.CreateStream(2);
        var e = Assert.Throws<InvalidDataException>(() => s.Import(foreign.Export()));
        Assert.Contains("H = 129", e.Message, StringComparison.Ordinal);

        var rows = Assert.Throws<ArgumentException>(() => s.ImportRow(0, good));
        Assert.Equal("data", rows.ParamName);

        // Nothing was changed by the rejected imports.
        Assert.Equal(good, s.Export());
    }

    [Fact]
    public void BadArguments_NameTheArgumentAndShape()
    {
        using RecurrentNetwork lstm = RecurrentNetwork.Create(Options(CellKind.Lstm, false), 1);
        using StreamState s = lstm.CreateStream(2);
        var e = Assert.Throws<ArgumentException>(() => s.SetState(new float[5], default));
        Assert.Equal("h0", e.ParamName);
        Assert.Contains("[2, 2, 130]", e.Message, StringComparison.Ordinal);
        Assert.Equal("row", Assert.Throws<ArgumentOutOfRangeException>(() => s.ResetRow(2)).ParamName);
        Assert.Equal("row", Assert.Throws<ArgumentOutOfRangeException>(() => s.ExportRow(-1)).ParamName);
        Assert.Equal("c", Assert.Throws<ArgumentException>(() => s.GetRow(0, new float[260], new float[3])).ParamName);

        using RecurrentNetwork rnn = RecurrentNetwork.Create(Options(CellKind.Rnn, false), 1);
        using StreamState r = rnn.CreateStream(1);
        Assert.Equal("c0", Assert.Throws<ArgumentException>(() => r.SetState(new float[260], new float[260])).ParamName);
    }

    [Fact]
    public void RowOperations_AllocateNothing()
    {
        using RecurrentNetwork net = RecurrentNetwork.Create(Options(CellKind.Lstm, false), 1);
        using StreamState s = net.CreateStream(4);
        byte[] buffer = new byte[s.ExportLength(1)];
        float[] h = new float[260], c = new float[260];
        void Touch()
        {
            s.ResetRow(1);
            s.ExportRow(2, buffer);
            s.ImportRow(3, buffer);
            s.SetRow(0, h, c);
            s.GetRow(0, h, c);
        }
        Helpers.WarmUp(Touch);
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 1000; i++) Touch();
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }
}
