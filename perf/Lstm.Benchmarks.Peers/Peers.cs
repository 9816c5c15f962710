using Lstm.Core;
using Microsoft.ML.OnnxRuntime;
using TorchSharp;
using static TorchSharp.torch;

namespace Lstm.Benchmarks.Peers;

/// <summary>One single-layer LSTM (I = H) with the same weights in Lstm.Core, TorchSharp and ONNX Runtime.</summary>
internal sealed class Models : IDisposable
{
    public Models(int hidden, int threads, int seed = 1)
    {
        Hidden = hidden;
        Threads = threads;
        Ours = RecurrentNetwork.Create(new RecurrentOptions(hidden, hidden), seed);
        Ours.Threads = threads;
        float[] wih = Ours.GetParameter("weight_ih_l0"), whh = Ours.GetParameter("weight_hh_l0");
        float[] bih = Ours.GetParameter("bias_ih_l0"), bhh = Ours.GetParameter("bias_hh_l0");

        torch.set_num_threads(threads);
        TorchLstm = nn.LSTM(hidden, hidden);
        TorchCell = nn.LSTMCell(hidden, hidden);
        using (torch.no_grad())
        {
            var values = new Dictionary<string, float[]> { ["weight_ih"] = wih, ["weight_hh"] = whh, ["bias_ih"] = bih, ["bias_hh"] = bhh };
            // Each source tensor is disposed explicitly after its copy: left to the finalizer, one was freed while
            // libtorch still copied from it (a crash in THSTensor_copy_ seen here under load).
            foreach (var (name, p) in TorchLstm.named_parameters())
            {
                using Tensor source = torch.tensor(values[name.Replace("_l0", "", StringComparison.Ordinal)], p.shape);
                p.copy_(source);
                GC.KeepAlive(p);
            }
            foreach (var (name, p) in TorchCell.named_parameters())
            {
                using Tensor source = torch.tensor(values[name], p.shape);
                p.copy_(source);
                GC.KeepAlive(p);
            }
        }

        using var options = new SessionOptions
        {
            IntraOpNumThreads = threads,
            InterOpNumThreads = 1,
            ExecutionMode = ExecutionMode.ORT_SEQUENTIAL,
            GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL,
        };
        Onnx = new InferenceSession(OnnxLstmModel.Build(hidden, hidden, wih, whh, bih, bhh), options);
    }

    public int Hidden { get; }

    public int Threads { get; }

    public RecurrentNetwork Ours { get; }

    public TorchSharp.Modules.LSTM TorchLstm { get; }

    public TorchSharp.Modules.LSTMCell TorchCell { get; }

    public InferenceSession Onnx { get; }

    public void Dispose()
    {
        Ours.Dispose();
        TorchLstm.Dispose();
        TorchCell.Dispose();
        Onnx.Dispose();
    }
}

/// <summary>Streaming steps with the state carried, each way at its fastest: our Step, ORT with bound buffers, LSTMCell.</summary>
internal sealed class StepRunners : IDisposable
{
    private readonly Models m;
    private readonly StreamState state;
    private readonly float[] x, y;
    private readonly RunOptions run = new();
    private readonly OrtValue[][] ortIn = new OrtValue[2][], ortOut = new OrtValue[2][];
    private readonly float[][] ortH = [[], []], ortC = [[], []];
    private readonly float[] ortY;
    private int ortParity;
    private Tensor tx, th, tc;
    private static readonly string[] InNames = ["X", "initial_h", "initial_c"], OutNames = ["Y", "Y_h", "Y_c"];

    public StepRunners(Models models, float[] input)
    {
        m = models;
        int h = m.Hidden;
        x = input;
        y = new float[h];
        state = m.Ours.CreateStream(1, m.Threads);
        ortY = new float[h];
        OrtValue xv = OrtValue.CreateTensorValueFromMemory(x, [1, 1, h]);
        for (int p = 0; p < 2; p++)
        {
            ortH[p] = new float[h];
            ortC[p] = new float[h];
        }
        for (int p = 0; p < 2; p++)
        {
            ortIn[p] = [xv, OrtValue.CreateTensorValueFromMemory(ortH[p], [1, 1, h]), OrtValue.CreateTensorValueFromMemory(ortC[p], [1, 1, h])];
            ortOut[p] = [OrtValue.CreateTensorValueFromMemory(ortY, [1, 1, 1, h]), OrtValue.CreateTensorValueFromMemory(ortH[1 - p], [1, 1, h]),
                OrtValue.CreateTensorValueFromMemory(ortC[1 - p], [1, 1, h])];
        }
        tx = torch.tensor(x, [1, h]);
        th = torch.zeros(1, h);
        tc = torch.zeros(1, h);
    }

    public float[] Ours()
    {
        m.Ours.Step(state, x, y);
        return y;
    }

    public float[] Onnx()
    {
        m.Onnx.Run(run, InNames, ortIn[ortParity], OutNames, ortOut[ortParity]);
        ortParity = 1 - ortParity;
        return ortH[ortParity];
    }

    public float[] Torch()
    {
        TorchOnly();
        return th.data<float>().ToArray();
    }

    public void TorchOnly()
    {
        using var noGrad = torch.no_grad();
        var (h2, c2) = m.TorchCell.forward(tx, (th, tc));
        th.Dispose();
        tc.Dispose();
        th = h2;
        tc = c2;
    }

    public void Dispose()
    {
        state.Dispose();
        run.Dispose();
        foreach (OrtValue[] vs in ortIn.Concat(ortOut)) foreach (OrtValue v in vs) v.Dispose();
        tx.Dispose();
        th.Dispose();
        tc.Dispose();
    }
}

/// <summary>Whole sequences (inference), and one training step: forward plus backward with dL/dy given.</summary>
internal sealed class SequenceRunners(Models m, int steps, int batch, float[] x, float[] dy) : IDisposable
{
    private readonly Tensor tx = torch.tensor(x, [steps, batch, m.Hidden]);
    private readonly Tensor tdy = torch.tensor(dy, [steps, batch, m.Hidden]);
    private readonly ParameterSet grads = m.Ours.CreateGradients();
    private readonly RunOptions run = new();
    private readonly float[] y = new float[steps * batch * m.Hidden], hn = new float[batch * m.Hidden], cn = new float[batch * m.Hidden];

    // Into reused buffers, as a service would run it: libtorch's caching allocator reuses its outputs too.
    public float[] Ours()
    {
        m.Ours.Forward(x, steps, batch, y, hn, cn);
        return y;
    }

    public float[] Torch()
    {
        using var noGrad = torch.no_grad();
        var (y, hn, cn) = m.TorchLstm.forward(tx);
        using (hn) using (cn) using (y)
        {
            return y.data<float>().ToArray();
        }
    }

    public void TorchOnly()
    {
        using var noGrad = torch.no_grad();
        var (y, hn, cn) = m.TorchLstm.forward(tx);
        y.Dispose();
        hn.Dispose();
        cn.Dispose();
    }

    public float[] Onnx()
    {
        int h = m.Hidden;
        using var xv = OrtValue.CreateTensorValueFromMemory(x, [steps, batch, h]);
        using var hv = OrtValue.CreateTensorValueFromMemory(new float[batch * h], [1, batch, h]);
        using var cv = OrtValue.CreateTensorValueFromMemory(new float[batch * h], [1, batch, h]);
        using IDisposableReadOnlyCollection<OrtValue> outs = m.Onnx.Run(run, ["X", "initial_h", "initial_c"], [xv, hv, cv], ["Y"]);
        return outs[0].GetTensorDataAsSpan<float>().ToArray();
    }

    // A trace that owns its buffers, as a training loop would keep it: no allocation per step, and on 2 threads small
    // batches split the hidden units of both passes (the pooled ForwardTraining splits rows only).
    private readonly TrainingTrace trace = m.Ours.CreateTrace(steps, batch);

    public float[] OursTrain()
    {
        grads.Clear();
        m.Ours.ForwardTrainingInto(trace, x);
        m.Ours.BackwardInto(trace, dy, default, default, grads, default, default, default);
        return grads["weight_hh_l0"];
    }

    public float[] TorchTrain()
    {
        m.TorchLstm.zero_grad();
        using var scope = torch.NewDisposeScope();
        var (y, _, _) = m.TorchLstm.forward(tx);
        (y * tdy).sum().backward();
        return m.TorchLstm.get_parameter("weight_hh_l0")!.grad!.data<float>().ToArray();
    }

    public void TorchTrainOnly()
    {
        m.TorchLstm.zero_grad();
        using var scope = torch.NewDisposeScope();
        var (y, _, _) = m.TorchLstm.forward(tx);
        (y * tdy).sum().backward();
    }

    public void Dispose()
    {
        trace.Dispose();
        tx.Dispose();
        tdy.Dispose();
        run.Dispose();
    }
}
