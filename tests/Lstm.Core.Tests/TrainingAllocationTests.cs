using Lstm.Experiments;
using Lstm.Experiments.CharModel;
using Lstm.Core;
using Lstm.Core.Training;

namespace Lstm.Core.Tests;

/// <summary>
/// A steady-state training step allocates nothing: on the calling thread and on the network's worker threads (each
/// counts its own thread's bytes), whether the batch is split by rows (B = 32 on 2 threads) or the backward pass by
/// hidden units (B = 1 on 2 threads).
/// </summary>
public class TrainingAllocationTests
{
    public static TheoryData<int, int, float> Cases() => new()
    {
        { 1, 1, 0f },
        { 1, 2, 0f },      // backward split by units
        { 32, 1, 0f },
        { 32, 2, 0f },     // forward and backward split by rows
        { 32, 2, 0.2f },   // dropout between the layers
    };

    private static long AllocatedBytes(RecurrentNetwork net) => net.WorkerAllocatedBytes + GC.GetAllocatedBytesForCurrentThread();

    [Theory]
    [MemberData(nameof(Cases))]
    public void ForwardBackwardAndAnOptimizerStep_AllocateNothing(int batch, int threads, float dropout)
    {
        const int T = 8, I = 16;
        int H = batch == 1 ? 128 : 64; // B = 1 on 2 threads splits units at 64 per thread; rows split at any H
        var options = new RecurrentOptions(I, H, Layers: 2);
        using RecurrentNetwork net = RecurrentNetwork.Create(options, 1);
        net.Threads = threads;
        using TrainingTrace trace = net.CreateTrace(T, batch);
        ParameterSet grads = net.CreateGradients();
        var optimizer = new Adam();
        var random = new SeededRandom(5);
        int state = 2 * batch * H;
        float[] x = Helpers.ToFloat(Helpers.Uniform(T * batch * I, 1)), dy = Helpers.ToFloat(Helpers.Uniform(T * batch * H, 2));
        float[] h0 = Helpers.ToFloat(Helpers.Uniform(state, 3)), c0 = Helpers.ToFloat(Helpers.Uniform(state, 4));
        float[] dx = new float[x.Length], dh0 = new float[state], dc0 = new float[state];
        (float[], float[])[]? pairs = null;
        void Update(ParameterSet p)
        {
            pairs ??= Pairs(p, grads); // not a lambda here: its closure over p would be made on every call
            optimizer.Step(pairs, 1e-4);
        }
        Action<ParameterSet> update = Update;
        void Step()
        {
            grads.Clear();
            net.ForwardTrainingInto(trace, x, h0, c0, dropout, random);
            net.BackwardInto(trace, dy, default, default, grads, dx, dh0, dc0);
            net.UpdateParameters(update);
        }
        Helpers.WithTeamMode(parallel: true, () =>
        {
            Helpers.WarmUp(Step);
            long before = AllocatedBytes(net);
            for (int i = 0; i < 30; i++) Step();
            Assert.Equal(0, AllocatedBytes(net) - before);
        });
        Assert.All(trace.Result.Output, v => Assert.True(float.IsFinite(v)));
    }

    private static (float[], float[])[] Pairs(ParameterSet parameters, ParameterSet grads) =>
        parameters.Infos.Select(i => (parameters[i.Name], grads[i.Name])).ToArray();

    [Theory]
    [InlineData(32, 1)]
    [InlineData(32, 2)]
    [InlineData(1, 2)]
    public void ACharTrainerStep_AllocatesNothing(int batch, int threads)
    {
        string text = TrainingBitsTests.Text();
        var model = CharLanguageModel.Create(text, new CharModelOptions { SequenceLength = 10, Batch = batch, Hidden = batch == 1 ? 128 : 64 });
        using RecurrentNetwork net = model.Network;
        net.Threads = threads;
        var trainer = new CharTrainer(model, text);
        Helpers.WithTeamMode(parallel: true, () =>
        {
            Helpers.WarmUp(() => trainer.TrainStep());
            long before = AllocatedBytes(net);
            for (int i = 0; i < 20; i++) trainer.TrainStep();
            Assert.Equal(0, AllocatedBytes(net) - before);
        });
    }
}
