using Lstm.Core;
using Lstm.Core.Reference;

namespace Lstm.Core.Tests;

public class ReferenceGradientTests
{
    // The bound; GradientChecker.Floor and .Step say why it holds for central differences in double.
    private const double MaxRelativeError = 1e-6;

    public static TheoryData<string> Variants() => new(VariantOptions.Keys);

    internal static readonly Dictionary<string, RecurrentOptions> VariantOptions = new()
    {
        ["lstm"] = new(3, 4),
        ["no-forget-gate"] = new(3, 4, ForgetGate: false),
        ["peepholes"] = new(3, 4, Peepholes: true),
        ["stacked"] = new(3, 4, Layers: 2),
        ["bidirectional"] = new(3, 4, Bidirectional: true),
        ["stacked-bidirectional-peepholes"] = new(3, 3, Layers: 2, Bidirectional: true, Peepholes: true),
        ["batch-first"] = new(3, 4, Layers: 2, BatchFirst: true),
        ["rnn"] = new(3, 4, Cell: CellKind.Rnn),
        ["rnn-stacked-bidirectional"] = new(3, 4, Layers: 2, Bidirectional: true, Cell: CellKind.Rnn),
        ["gru"] = new(3, 4, Cell: CellKind.Gru),
        ["gru-stacked-bidirectional"] = new(3, 4, Layers: 2, Bidirectional: true, Cell: CellKind.Gru),
        ["gru-batch-first"] = new(3, 4, Layers: 2, BatchFirst: true, Cell: CellKind.Gru),
        ["gru-reset-before-product"] = new(3, 4, Cell: CellKind.Gru, LinearBeforeReset: false),
        ["gru-reset-before-product-stacked-bidirectional"] = new(3, 4, Layers: 2, Bidirectional: true, Cell: CellKind.Gru, LinearBeforeReset: false),
    };

    [Theory]
    [MemberData(nameof(Variants))]
    public void ReferenceBackward_MatchesCentralDifferences(string variant)
    {
        RecurrentOptions o = VariantOptions[variant];
        const int T = 5, B = 2;
        var net = ReferenceNetwork.From(RecurrentNetwork.Create(o, seed: 1));
        int state = o.Directions * o.Layers * B * o.HiddenSize;
        var worst = GradientChecker.Check(net, Helpers.Uniform(T * B * o.InputSize, 2), T, B,
            Helpers.Uniform(state, 3, 0.5), o.Cell == CellKind.Lstm ? Helpers.Uniform(state, 4, 0.5) : null,
            Helpers.Uniform(T * B * o.OutputSize, 5), Helpers.Uniform(state, 6), o.Cell == CellKind.Lstm ? Helpers.Uniform(state, 7) : null);
        Assert.NotEmpty(worst);
        foreach (var (name, err) in worst)
        {
            Assert.True(err <= MaxRelativeError, $"{variant}: {name} worst relative error {err:E2}");
        }
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    [InlineData(5)]
    public void GradientChecker_CatchesAWrongGradient(int seed)
    {
        // A checker that cannot fail proves nothing: break one weight between the analytic and numeric passes.
        var o = new RecurrentOptions(2, 3);
        var net = ReferenceNetwork.From(RecurrentNetwork.Create(o, seed));
        double[] x = Helpers.Uniform(4 * 2, 2), dy = Helpers.Uniform(4 * 3, 3);
        var trace = net.Forward(x, 4, 1);
        var analytic = net.Backward(trace, dy);
        // The numeric side now differentiates another network. The broken weight feeds the same gate unit as w[0] from
        // the input (not from h, which starts at 0 and stays small over 4 steps), so the change does not hang on the seed.
        net.Parameters["weight_ih_l0"][1] += 0.5;
        double[] w = net.Parameters["weight_ih_l0"];
        double numeric;
        {
            double keep = w[0];
            w[0] = keep + 1e-5; double up = Dot(net.Forward(x, 4, 1).Output, dy);
            w[0] = keep - 1e-5; double down = Dot(net.Forward(x, 4, 1).Output, dy);
            w[0] = keep;
            numeric = (up - down) / 2e-5;
        }
        double gap = Math.Abs(numeric - analytic.Parameters["weight_ih_l0"][0]);
        Assert.True(gap > 1e-4, $"analytic and numeric differ by only {gap:E2}");
    }

    private static double Dot(double[] a, double[] b) => a.Zip(b, (p, q) => p * q).Sum();
}
