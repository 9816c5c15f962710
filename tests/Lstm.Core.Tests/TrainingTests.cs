using Lstm.Experiments;
using Lstm.Experiments.CharModel;
using Lstm.Core;
using Lstm.Core.Training;

namespace Lstm.Core.Tests;

public class LossAndOptimizerTests
{
    [Fact]
    public void SoftmaxCrossEntropy_MatchesAHandComputedCase_AndSkipsIgnoredRows()
    {
        float[] logits = [1, 2, 3, 5, 5, 5];
        float[] d = new float[6];
        double loss = Losses.SoftmaxCrossEntropy(logits, 2, 3, [2, Losses.Ignore], d);
        double z = Math.Exp(1) + Math.Exp(2) + Math.Exp(3);
        Assert.Equal(Math.Log(z) - 3, loss, 12);                   // -log softmax(z)_2 = log Σe^z - z_2 = 0.4076
        Assert.Equal(Math.Exp(1) / z, d[0], 6);                    // softmax - onehot, over 1 counted row
        Assert.Equal((Math.Exp(3) / z) - 1, d[2], 6);
        Assert.Equal([0f, 0f, 0f], d[3..]);
        Assert.Throws<ArgumentOutOfRangeException>(() => Losses.SoftmaxCrossEntropy(logits, 2, 3, [3, 0], d));
    }

    [Fact]
    public void MeanSquaredError_MatchesAHandComputedCase()
    {
        float[] d = new float[2];
        Assert.Equal(((1.0 * 1) + (2.0 * 2)) / 2, Losses.MeanSquaredError([1, 0], [0, 2], d), 12);
        Assert.Equal([1f, -2f], d); // 2 (y - t) / n
    }

    [Fact]
    public void Sgd_WithAndWithoutMomentum_MatchesHandComputedSteps()
    {
        float[] p = [1f], g = [0.5f];
        new Sgd().Step([(p, g)], 0.1);
        Assert.Equal(0.95f, p[0], 6);
        p = [1f];
        var m = new Sgd(0.9);
        m.Step([(p, g)], 0.1); // v = 0.5, p = 0.95
        m.Step([(p, g)], 0.1); // v = 0.9·0.5 + 0.5 = 0.95, p = 0.95 - 0.095
        Assert.Equal(0.855f, p[0], 6);
    }

    [Fact]
    public void Adam_FirstStep_MovesByTheLearningRate_AgainstTheGradientSign()
    {
        float[] p = [1f, 1f], g = [0.5f, -2f];
        new Adam().Step([(p, g)], 0.1); // m̂ = g, v̂ = g², so the step is lr·g/|g|
        Assert.Equal(0.9f, p[0], 5);
        Assert.Equal(1.1f, p[1], 5);
    }

    [Fact]
    public void Adadelta_FirstStep_MatchesTheFormula()
    {
        float[] p = [1f], g = [0.5f];
        new Adadelta(0.95, 1e-6).Step([(p, g)], 1.0);
        double eg = 0.05 * 0.25;                              // E[g²] = (1-ρ) g²
        double dx = -Math.Sqrt(1e-6) / Math.Sqrt(eg + 1e-6) * 0.5; // Δx = -RMS[Δx]/RMS[g] · g
        Assert.Equal(1 + dx, p[0], 6);
    }

    [Fact]
    public void ClipByGlobalNorm_ScalesAllTogether_AndReportsNonFinite()
    {
        float[] a = [3f], b = [4f];
        Assert.Equal(5, GradientClipping.ClipByGlobalNorm([a, b], 1), 12);
        Assert.Equal(0.6f, a[0], 6);
        Assert.Equal(0.8f, b[0], 6);
        float[] c = [float.NaN, 1f];
        Assert.True(double.IsNaN(GradientClipping.ClipByGlobalNorm([c], 1)));
        Assert.Equal(1f, c[1]);
    }

    [Fact]
    public void StepDecay_HalvesEverySoManySteps()
    {
        var s = LearningRateSchedule.StepDecay(1, 10, 0.5);
        Assert.Equal(1, s.At(9));
        Assert.Equal(0.5, s.At(10));
        Assert.Equal(0.25, s.At(25));
        Assert.Equal(0.3, LearningRateSchedule.Constant(0.3).At(1000));
    }
}

public class DropoutTests
{
    [Fact]
    public void DropoutBackward_MatchesFiniteDifferencesWithTheSameMask()
    {
        var o = new RecurrentOptions(3, 6, Layers: 2);
        RecurrentNetwork net = RecurrentNetwork.Create(o, 2);
        float[] x = Helpers.ToFloat(Helpers.Uniform(5 * 2 * 3, 1));
        float[] dy = Helpers.ToFloat(Helpers.Uniform(5 * 2 * 6, 2));
        double Loss(float[] input)
        {
            float[] y = net.ForwardTraining(input, 5, 2, default, default, 0.5f, new SeededRandom(9)).Result.Output;
            return y.Zip(dy, (a, b) => (double)a * b).Sum();
        }
        TrainingTrace tr = net.ForwardTraining(x, 5, 2, default, default, 0.5f, new SeededRandom(9));
        float[] dx = net.Backward(tr, dy, default, default, net.CreateGradients()).DX;
        Assert.NotEqual(net.Forward(x, 5, 2).Output, tr.Result.Output); // the mask did something
        for (int i = 0; i < x.Length; i++)
        {
            // float32 central differences with step 1e-2: truncation and rounding error ≈ 1e-4 on gradients of size ~1.
            float keep = x[i];
            x[i] = keep + 1e-2f; double up = Loss(x);
            x[i] = keep - 1e-2f; double down = Loss(x);
            x[i] = keep;
            double numeric = (up - down) / 2e-2;
            Assert.True(Math.Abs(numeric - dx[i]) <= 2e-3 * (1 + Math.Abs(numeric)), $"dx[{i}] = {dx[i]} vs {numeric}");
        }
    }
}
