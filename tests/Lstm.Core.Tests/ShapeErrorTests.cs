using Lstm.Core;

namespace Lstm.Core.Tests;

public class ShapeErrorTests
{
    private readonly RecurrentNetwork net = RecurrentNetwork.Create(new RecurrentOptions(3, 4, Layers: 2, Bidirectional: true), 1);

    [Fact]
    public void Forward_NamesTheArgumentAndBothShapes()
    {
        var e = Assert.Throws<ArgumentException>(() => net.Forward(new float[5 * 2 * 3 - 1], 5, 2));
        Assert.Equal("x", e.ParamName);
        Assert.Contains("[5, 2, 3]", e.Message);
        Assert.Contains("29", e.Message);

        e = Assert.Throws<ArgumentException>(() => net.Forward(new float[30], 5, 2, new float[15]));
        Assert.Equal("h0", e.ParamName);
        Assert.Contains("[4, 2, 4]", e.Message);

        e = Assert.Throws<ArgumentException>(() => net.Forward(new float[30], 5, 2, default, new float[3]));
        Assert.Equal("c0", e.ParamName);

        Assert.Throws<ArgumentOutOfRangeException>(() => net.Forward([], -1, 2));
    }

    [Fact]
    public void Backward_NamesTheArgument()
    {
        TrainingTrace tr = net.ForwardTraining(new float[30], 5, 2);
        var e = Assert.Throws<ArgumentException>(() => net.Backward(tr, new float[10], default, default, net.CreateGradients()));
        Assert.Equal("dy", e.ParamName);
        Assert.Contains("[5, 2, 8]", e.Message);
    }

    [Fact]
    public void EmptySequencesAndBatches_AreValid()
    {
        SequenceOutput r = net.Forward([], 0, 2);
        Assert.Empty(r.Output);
        Assert.Equal(4 * 2 * 4, r.Hn.Length);
        Assert.All(r.Hn, v => Assert.Equal(0f, v));
        Assert.Empty(net.Forward([], 5, 0).Output);
    }

    [Fact]
    public void Parameters_AreCheckedByNameAndShape()
    {
        var e = Assert.Throws<ArgumentException>(() => net.SetParameter("weight_ih_l0", new float[5]));
        Assert.Contains("[16, 3]", e.Message);
        e = Assert.Throws<ArgumentException>(() => net.SetParameter("weight_ih_l9", new float[48]));
        Assert.Contains("weight_ih_l0_reverse", e.Message);
        var values = net.ParameterInfos.ToDictionary(i => i.Name, i => net.GetParameter(i.Name));
        values.Remove("bias_hh_l1");
        values["extra"] = [1f];
        e = Assert.Throws<ArgumentException>(() => RecurrentNetwork.FromParameters(net.Options, values));
        Assert.Contains("bias_hh_l1", e.Message);
        Assert.Contains("extra", e.Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => RecurrentNetwork.Create(new RecurrentOptions(0, 4), 1));
    }

    [Fact]
    public void SetParameter_RepacksSoTheNextForwardUsesIt()
    {
        float[] x = Helpers.ToFloat(Helpers.Uniform(30, 1));
        float[] before = net.Forward(x, 5, 2).Output;
        float[] w = net.GetParameter("weight_hh_l1_reverse");
        w[3] += 0.25f;
        net.SetParameter("weight_hh_l1_reverse", w);
        Assert.NotEqual(before, net.Forward(x, 5, 2).Output);
        Assert.Equal(w, net.GetParameter("weight_hh_l1_reverse"));
    }
}
