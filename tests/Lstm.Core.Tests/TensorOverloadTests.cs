using System.Numerics.Tensors;

namespace Lstm.Core.Tests;

/// <summary>The System.Numerics.Tensors overloads: same bits as the span overloads, shapes from the tensors' lengths.</summary>
public class TensorOverloadTests
{
    private const int T = 5, B = 3, I = 4, H = 6;

    private static RecurrentNetwork Network(bool batchFirst = false) =>
        RecurrentNetwork.Create(new RecurrentOptions(I, H, Layers: 2, Bidirectional: true, BatchFirst: batchFirst), seed: 7);

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Forward_OnTensors_MatchesTheSpanOverload_AndGivesTensorResults(bool batchFirst)
    {
        RecurrentNetwork net = Network(batchFirst);
        float[] x = Helpers.ToFloat(Helpers.Uniform(T * B * I, 1)), h0 = Helpers.ToFloat(Helpers.Uniform(4 * B * H, 2)), c0 = Helpers.ToFloat(Helpers.Uniform(4 * B * H, 3));
        nint[] xShape = batchFirst ? [B, T, I] : [T, B, I];
        SequenceOutput spans = net.Forward(x, T, B, h0, c0);
        SequenceOutput tensors = net.Forward(Tensor.Create(x, xShape).AsReadOnlyTensorSpan(), Tensor.Create(h0, [4, B, H]).AsReadOnlyTensorSpan(),
            Tensor.Create(c0, [4, B, H]).AsReadOnlyTensorSpan());
        Helpers.AssertBitwise(spans.Output, tensors.Output, "y");
        Helpers.AssertBitwise(spans.Hn, tensors.Hn, "hn");
        Helpers.AssertBitwise(spans.Cn, tensors.Cn, "cn");

        Tensor<float> y = tensors.OutputTensor;
        Assert.Equal(batchFirst ? new nint[] { B, T, 2 * H } : [T, B, 2 * H], y.Lengths.ToArray());
        nint[] last = batchFirst ? [B - 1, T - 1, (2 * H) - 1] : [T - 1, B - 1, (2 * H) - 1];
        Assert.Equal(spans.Output[^1], y[last]);
        Assert.Equal(new nint[] { 4, B, H }, tensors.HnTensor.Lengths.ToArray());
        Assert.Equal(spans.Cn[H + 1], tensors.CnTensor[(nint[])[0, 1, 1]]);
    }

    [Fact]
    public void Forward_OnATransposedView_ReadsItsElementsInTensorOrder()
    {
        // The same [T, B, I] values stored batch-major, seen through strides: dense, but not row-major.
        RecurrentNetwork net = Network();
        float[] x = Helpers.ToFloat(Helpers.Uniform(T * B * I, 4));
        float[] batchMajor = new float[x.Length];
        for (int t = 0; t < T; t++)
            for (int b = 0; b < B; b++)
                x.AsSpan(((t * B) + b) * I, I).CopyTo(batchMajor.AsSpan(((b * T) + t) * I, I));
        var view = new ReadOnlyTensorSpan<float>(batchMajor, [T, B, I], [I, T * I, 1]);
        Helpers.AssertBitwise(net.Forward(x, T, B).Output, net.Forward(view).Output, "y");
    }

    [Fact]
    public void TrainingAndBackward_OnTensors_MatchTheSpanOverloads()
    {
        RecurrentNetwork net = Network();
        float[] x = Helpers.ToFloat(Helpers.Uniform(T * B * I, 5)), dy = Helpers.ToFloat(Helpers.Uniform(T * B * 2 * H, 6));
        float[] dhn = Helpers.ToFloat(Helpers.Uniform(4 * B * H, 8));
        ParameterSet gSpans = net.CreateGradients(), gTensors = net.CreateGradients();
        InputGradients viaSpans, viaTensors;
        using (TrainingTrace trace = net.ForwardTraining(x, T, B))
        {
            viaSpans = net.Backward(trace, dy, dhn, default, gSpans);
        }
        using (TrainingTrace trace = net.ForwardTraining(Tensor.Create(x, [T, B, I]).AsReadOnlyTensorSpan()))
        {
            viaTensors = net.Backward(trace, gTensors, Tensor.Create(dy, [T, B, 2 * H]).AsReadOnlyTensorSpan(), Tensor.Create(dhn, [4, B, H]).AsReadOnlyTensorSpan());
        }
        Helpers.AssertBitwise(viaSpans.DX, viaTensors.DX, "dx");
        Helpers.AssertBitwise(viaSpans.DH0, viaTensors.DH0, "dh0");
        foreach (ParameterInfo p in net.ParameterInfos)
        {
            Helpers.AssertBitwise(gSpans[p.Name], gTensors[p.Name], p.Name);
        }
    }

    [Fact]
    public void WithProjections_hIsPWide_AndcIsHWide()
    {
        const int P = 3;
        RecurrentNetwork net = RecurrentNetwork.Create(new RecurrentOptions(I, H, Layers: 2, ProjectionSize: P), seed: 5);
        float[] x = Helpers.ToFloat(Helpers.Uniform(T * B * I, 1)), h0 = Helpers.ToFloat(Helpers.Uniform(2 * B * P, 2)), c0 = Helpers.ToFloat(Helpers.Uniform(2 * B * H, 3));
        SequenceOutput spans = net.Forward(x, T, B, h0, c0);
        SequenceOutput tensors = net.Forward(Tensor.Create(x, [T, B, I]).AsReadOnlyTensorSpan(), Tensor.Create(h0, [2, B, P]).AsReadOnlyTensorSpan(),
            Tensor.Create(c0, [2, B, H]).AsReadOnlyTensorSpan());
        Helpers.AssertBitwise(spans.Output, tensors.Output, "y");
        Assert.Equal(new nint[] { 2, B, P }, tensors.HnTensor.Lengths.ToArray());
        var e = Assert.Throws<ArgumentException>(() => net.Forward(Tensor.Create(x, [T, B, I]).AsReadOnlyTensorSpan(), Tensor.Create(c0, [2, B, H]).AsReadOnlyTensorSpan()));
        Assert.Equal("h0", e.ParamName);
        Assert.Contains("projection size", e.Message, StringComparison.Ordinal);

        float[] dy = Helpers.ToFloat(Helpers.Uniform(T * B * P, 4)), dhn = Helpers.ToFloat(Helpers.Uniform(2 * B * P, 5)), dcn = Helpers.ToFloat(Helpers.Uniform(2 * B * H, 6));
        ParameterSet gSpans = net.CreateGradients(), gTensors = net.CreateGradients();
        InputGradients viaSpans, viaTensors;
        using (TrainingTrace trace = net.ForwardTraining(x, T, B))
        {
            viaSpans = net.Backward(trace, dy, dhn, dcn, gSpans);
        }
        using (TrainingTrace trace = net.ForwardTraining(Tensor.Create(x, [T, B, I]).AsReadOnlyTensorSpan()))
        {
            viaTensors = net.Backward(trace, gTensors, Tensor.Create(dy, [T, B, P]).AsReadOnlyTensorSpan(), Tensor.Create(dhn, [2, B, P]).AsReadOnlyTensorSpan(),
                Tensor.Create(dcn, [2, B, H]).AsReadOnlyTensorSpan());
        }
        Helpers.AssertBitwise(viaSpans.DX, viaTensors.DX, "dx");
        Helpers.AssertBitwise(gSpans["weight_hr_l1"], gTensors["weight_hr_l1"], "weight_hr_l1");

        using StreamState a = net.CreateStream(B), b = net.CreateStream(B);
        float[] xs = x.AsSpan(0, B * I).ToArray(), ySpan = new float[B * P], yTensor = new float[B * P];
        net.Step(a, xs, ySpan);
        net.Step(b, Tensor.Create(xs, [B, I]).AsReadOnlyTensorSpan(), Tensor.Create(yTensor, [B, P]).AsTensorSpan());
        Helpers.AssertBitwise(ySpan, yTensor, "step y");
    }

    [Fact]
    public void Step_OnDenseTensors_MatchesTheSpanOverload_AndAllocatesNothing()
    {
        RecurrentNetwork net = RecurrentNetwork.Create(new RecurrentOptions(I, H, Layers: 2), seed: 3);
        using StreamState a = net.CreateStream(B), b = net.CreateStream(B);
        float[] x = Helpers.ToFloat(Helpers.Uniform(B * I, 9)), ySpan = new float[B * H], yTensor = new float[B * H];
        Tensor<float> xt = Tensor.Create(x, [B, I]), yt = Tensor.Create(yTensor, [B, H]);
        for (int step = 0; step < 3; step++)
        {
            net.Step(a, x, ySpan);
            net.Step(b, xt.AsReadOnlyTensorSpan(), yt.AsTensorSpan());
            Helpers.AssertBitwise(ySpan, yTensor, "y");
        }
        long before = Helpers.AllocatedBytes(b);
        for (int step = 0; step < 100; step++) net.Step(b, xt.AsReadOnlyTensorSpan(), yt.AsTensorSpan());
        Assert.Equal(0, Helpers.AllocatedBytes(b) - before);
    }

    [Fact]
    public void WrongShapes_NameTheArgumentAndTheDimension()
    {
        RecurrentNetwork net = Network();
        var rank2 = Assert.Throws<ArgumentException>(() => net.Forward(Tensor.Create(new float[T * B * I], [T * B, I]).AsReadOnlyTensorSpan()));
        Assert.Equal("x", rank2.ParamName);
        Assert.Contains("3 dimensions", rank2.Message, StringComparison.Ordinal);

        var width = Assert.Throws<ArgumentException>(() => net.Forward(Tensor.Create(new float[T * B * 5], [T, B, 5]).AsReadOnlyTensorSpan()));
        Assert.Contains("x dimension 2 (input size) is 5; expected 4", width.Message, StringComparison.Ordinal);

        var h0 = Assert.Throws<ArgumentException>(() => net.Forward(Tensor.Create(new float[T * B * I], [T, B, I]).AsReadOnlyTensorSpan(),
            Tensor.Create(new float[4 * 2 * H], [4, 2, H]).AsReadOnlyTensorSpan()));
        Assert.Equal("h0", h0.ParamName);
        Assert.Contains("h0 dimension 1 (batch) is 2; expected 3", h0.Message, StringComparison.Ordinal);

        RecurrentNetwork oneWay = RecurrentNetwork.Create(new RecurrentOptions(I, H), seed: 7);
        using StreamState s = oneWay.CreateStream(B);
        float[] yStore = new float[2 * B * H];
        // Every other row of a buffer: not writable in place.
        var y = Assert.Throws<ArgumentException>(() => oneWay.Step(s, Tensor.Create(new float[B * I], [B, I]).AsReadOnlyTensorSpan(),
            new TensorSpan<float>(yStore, [B, H], [2 * H, 1])));
        Assert.Equal("y", y.ParamName);
    }

    [Fact]
    public void AnRnnOutput_HasNoCellTensor()
    {
        RecurrentNetwork rnn = RecurrentNetwork.Create(new RecurrentOptions(I, H, Cell: CellKind.Rnn), seed: 1);
        SequenceOutput o = rnn.Forward(Tensor.Create(new float[T * B * I], [T, B, I]).AsReadOnlyTensorSpan());
        Assert.Throws<InvalidOperationException>(() => o.CnTensor);
        Assert.Throws<InvalidOperationException>(() => new SequenceOutput([], [], []).OutputTensor);
    }
}
