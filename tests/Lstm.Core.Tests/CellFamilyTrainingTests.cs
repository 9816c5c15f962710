using Lstm.Core;

namespace Lstm.Core.Tests;

/// <summary>
/// Every cell kind and option of issue 14 through the training paths of issue 12: the reusable trace
/// (CreateTrace, ForwardTrainingInto, BackwardInto) gives the pooled pass's bits on 1 and 2 threads (units split at
/// B = 1, rows split at B = 32), and a repack after UpdateParameters (in place, or a new packed layer) gives the bits of
/// a network made fresh from the same parameters, its thread slices included.
/// </summary>
public class CellFamilyTrainingTests
{
    private const int T = 4, I = 5, H = 130;

    public static TheoryData<string> Kinds() => ["lstm", "gru", "gru-reset-before", "rnn-tanh", "rnn-relu", "lstm-no-bias", "gru-no-bias", "lstm-projection"];

    private static RecurrentOptions Options(string kind) => kind switch
    {
        "gru" => new(I, H, Layers: 2, Cell: CellKind.Gru),
        "gru-reset-before" => new(I, H, Layers: 2, Cell: CellKind.Gru, LinearBeforeReset: false),
        "rnn-tanh" => new(I, H, Layers: 2, Cell: CellKind.Rnn),
        "rnn-relu" => new(I, H, Layers: 2, Cell: CellKind.Rnn, Nonlinearity: RnnNonlinearity.Relu),
        "lstm-no-bias" => new(I, H, Layers: 2, Bias: false),
        "gru-no-bias" => new(I, H, Layers: 2, Cell: CellKind.Gru, Bias: false),
        "lstm-projection" => new(I, H, Layers: 2, ProjectionSize: 70),
        _ => new(I, H, Layers: 2),
    };

    // The pooled pass on one thread: what every other path must give bit for bit.
    private static (float[] Y, float[] Dx, ParameterSet Grads) Pooled(RecurrentNetwork net, float[] x, float[] dy, int batch)
    {
        ParameterSet g = net.CreateGradients();
        using TrainingTrace trace = net.ForwardTraining(x, T, batch);
        InputGradients d = net.Backward(trace, dy, default, default, g);
        return ((float[])trace.Result.Output.Clone(), d.DX, g);
    }

    [Theory]
    [MemberData(nameof(Kinds))]
    public void TheReusableTrace_GivesThePooledBits_OnOneAndTwoThreads(string kind)
    {
        RecurrentOptions o = Options(kind);
        foreach (int batch in new[] { 1, 32 })
        {
            using RecurrentNetwork net = RecurrentNetwork.Create(o, 3);
            float[] x = Helpers.ToFloat(Helpers.Uniform(T * batch * I, 1)), dy = Helpers.ToFloat(Helpers.Uniform(T * batch * o.OutputSize, 2));
            var (y0, dx0, g0) = Pooled(net, x, dy, batch);
            foreach (int threads in new[] { 1, 2 })
            {
                net.Threads = threads;
                Helpers.WithTeamMode(parallel: true, () =>
                {
                    if (o.ProjectionSize > 0)
                    {
                        Assert.Throws<NotSupportedException>(() => net.CreateTrace(T, batch)); // stated in the README: Backward only
                        var (y1, dx1, g1) = Pooled(net, x, dy, batch);
                        Helpers.AssertBitwise(y0, y1, $"{kind} B={batch} threads={threads} y");
                        Helpers.AssertBitwise(dx0, dx1, "dx");
                        return;
                    }
                    using TrainingTrace owned = net.CreateTrace(T, batch);
                    for (int pass = 0; pass < 2; pass++)
                    {
                        ParameterSet g = net.CreateGradients();
                        float[] dx = new float[x.Length];
                        net.ForwardTrainingInto(owned, x);
                        net.BackwardInto(owned, dy, default, default, g, dx, default, default);
                        string what = $"{kind} B={batch} threads={threads} pass {pass}";
                        Helpers.AssertBitwise(y0, owned.Result.Output, what + " y");
                        Helpers.AssertBitwise(dx0, dx, what + " dx");
                        foreach (ParameterInfo p in net.ParameterInfos)
                        {
                            Helpers.AssertBitwise(g0[p.Name], g[p.Name], what + " " + p.Name);
                        }
                    }
                });
            }
        }
    }

    [Theory]
    [MemberData(nameof(Kinds))]
    public void AfterUpdateParameters_StreamsAndSequences_AreThoseOfAFreshNetwork(string kind)
    {
        RecurrentOptions o = Options(kind) with { Layers = 1 };
        using RecurrentNetwork net = RecurrentNetwork.Create(o, 5);
        net.Threads = 2;
        float[] x = Helpers.ToFloat(Helpers.Uniform(T * I, 7));
        Helpers.WithTeamMode(parallel: true, () =>
        {
            using (StreamState warm = net.CreateStream(1, threads: 2))
            {
                net.Step(warm, x.AsSpan(0, I), new float[o.HiddenStateSize]); // the slices exist before the update
            }
            _ = net.Forward(x, T, 1);
            net.UpdateParameters(p =>
            {
                foreach (ParameterInfo info in p.Infos)
                {
                    float[] v = p[info.Name];
                    for (int i = 0; i < v.Length; i++) v[i] = (v[i] * 1.5f) + 0.01f; // every tensor, biases too
                }
            });
            using RecurrentNetwork fresh = RecurrentNetwork.FromParameters(o, net.ParameterInfos.ToDictionary(i => i.Name, i => net.GetParameter(i.Name)));
            Helpers.AssertBitwise(fresh.Forward(x, T, 1).Output, net.Forward(x, T, 1).Output, kind + " sequence, 2 threads");
            using StreamState a = net.CreateStream(1, threads: 2), b = fresh.CreateStream(1);
            float[] ya = new float[o.HiddenStateSize], yb = new float[o.HiddenStateSize];
            for (int t = 0; t < T; t++)
            {
                net.Step(a, x.AsSpan(t * I, I), ya);
                fresh.Step(b, x.AsSpan(t * I, I), yb);
                Helpers.AssertBitwise(yb, ya, $"{kind} stream step {t}");
            }
        });
    }
}
