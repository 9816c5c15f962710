using Lstm.Core;
using Microsoft.ML.OnnxRuntime;

namespace Lstm.Benchmarks.Peers;

/// <summary>Streaming steps (B = 1, state carried): ours in every weight format, ORT float32 and int8 with bound buffers.</summary>
internal sealed class QuantSteps : IDisposable
{
    private readonly Models m;
    private readonly float[] x;
    private readonly List<(string Name, RecurrentNetwork Net, StreamState State, float[] Y)> ours = [];
    private readonly OrtStepper ortF32, ortI8;

    public QuantSteps(Models models, InferenceSession onnxInt8, float[] input)
    {
        m = models;
        x = input;
        foreach (var (name, net) in OursFormats.All(m.Ours))
        {
            ours.Add((name, net, net.CreateStream(1, 1), new float[m.Hidden]));
        }
        ortF32 = new OrtStepper(m.Onnx, x, m.Hidden);
        ortI8 = new OrtStepper(onnxInt8, x, m.Hidden);
    }

    /// <summary>Each way's error against our float32 stream after each of <paramref name="steps"/> steps (h of every step).</summary>
    public Dictionary<string, ErrorStat> Errors(int steps)
    {
        var outputs = new Dictionary<string, List<float>>();
        void Add(string name, float[] y) => (outputs.TryGetValue(name, out var l) ? l : outputs[name] = []).AddRange(y);
        for (int s = 0; s < steps; s++)
        {
            foreach (var o in ours)
            {
                o.Net.Step(o.State, x, o.Y);
                Add(o.Name, o.Y);
            }
            Add("ORT float32", ortF32.Step());
            Add("ORT int8", ortI8.Step());
        }
        float[] reference = [.. outputs[ours[0].Name]];
        return outputs.ToDictionary(p => p.Key, p => Quantized.Error([.. p.Value], reference));
    }

    public (string Name, Action Run)[] Contenders(bool includeTorch)
    {
        var list = ours.Select(o => (o.Name, (Action)(() => o.Net.Step(o.State, x, o.Y)))).ToList();
        list.Add(("ORT float32", () => ortF32.Step()));
        list.Add(("ORT int8", () => ortI8.Step()));
        _ = includeTorch;
        return [.. list];
    }

    public void Dispose()
    {
        foreach (var o in ours)
        {
            o.State.Dispose();
            if (!ReferenceEquals(o.Net, m.Ours)) o.Net.Dispose();
        }
        ortF32.Dispose();
        ortI8.Dispose();
    }
}

/// <summary>One ORT session stepped one step at a time with its state in two swapped buffers (no allocation per step).</summary>
internal sealed class OrtStepper : IDisposable
{
    private static readonly string[] InNames = ["X", "initial_h", "initial_c"], OutNames = ["Y", "Y_h", "Y_c"];
    private readonly InferenceSession session;
    private readonly RunOptions run = new();
    private readonly OrtValue[][] ins = new OrtValue[2][], outs = new OrtValue[2][];
    private readonly float[][] h = [[], []], c = [[], []];
    private readonly float[] y;
    private int parity;

    public OrtStepper(InferenceSession session, float[] x, int hidden)
    {
        this.session = session;
        y = new float[hidden];
        OrtValue xv = OrtValue.CreateTensorValueFromMemory(x, [1, 1, x.Length]);
        for (int p = 0; p < 2; p++)
        {
            h[p] = new float[hidden];
            c[p] = new float[hidden];
        }
        for (int p = 0; p < 2; p++)
        {
            ins[p] = [xv, OrtValue.CreateTensorValueFromMemory(h[p], [1, 1, hidden]), OrtValue.CreateTensorValueFromMemory(c[p], [1, 1, hidden])];
            outs[p] = [OrtValue.CreateTensorValueFromMemory(y, [1, 1, 1, hidden]), OrtValue.CreateTensorValueFromMemory(h[1 - p], [1, 1, hidden]),
                OrtValue.CreateTensorValueFromMemory(c[1 - p], [1, 1, hidden])];
        }
    }

    public float[] Step()
    {
        session.Run(run, InNames, ins[parity], OutNames, outs[parity]);
        parity = 1 - parity;
        return h[parity];
    }

    public void Dispose()
    {
        run.Dispose();
        foreach (OrtValue v in ins.SelectMany(v => v).Distinct().Concat(outs.SelectMany(v => v))) v.Dispose();
    }
}

/// <summary>A whole sequence (B = 1, T steps) into reused buffers: ours in every format, ORT float32 and int8, TorchSharp float32.</summary>
internal sealed class QuantSequences : IDisposable
{
    private readonly Models m;
    private readonly InferenceSession onnxInt8;
    private readonly int steps, batch;
    private readonly float[] x;
    private readonly List<(string Name, RecurrentNetwork Net, float[] Y, float[] Hn, float[] Cn)> ours = [];
    private readonly SequenceRunners torchAndOrt;
    private readonly RunOptions run = new();

    public QuantSequences(Models models, InferenceSession onnxInt8, int steps, int batch, float[] x)
    {
        m = models;
        this.onnxInt8 = onnxInt8;
        this.steps = steps;
        this.batch = batch;
        this.x = x;
        int n = steps * batch * m.Hidden, s = batch * m.Hidden;
        foreach (var (name, net) in OursFormats.All(m.Ours))
        {
            ours.Add((name, net, new float[n], new float[s], new float[s]));
        }
        torchAndOrt = new SequenceRunners(m, steps, batch, x, new float[n]);
    }

    private float[] OrtInt8()
    {
        int h = m.Hidden;
        using var xv = OrtValue.CreateTensorValueFromMemory(x, [steps, batch, h]);
        using var hv = OrtValue.CreateTensorValueFromMemory(new float[batch * h], [1, batch, h]);
        using var cv = OrtValue.CreateTensorValueFromMemory(new float[batch * h], [1, batch, h]);
        using IDisposableReadOnlyCollection<OrtValue> outs = onnxInt8.Run(run, ["X", "initial_h", "initial_c"], [xv, hv, cv], ["Y"]);
        return outs[0].GetTensorDataAsSpan<float>().ToArray();
    }

    public Dictionary<string, ErrorStat> Errors()
    {
        var outputs = ours.ToDictionary(o => o.Name, o =>
        {
            o.Net.Forward(x, steps, batch, o.Y, o.Hn, o.Cn);
            return (float[])o.Y.Clone();
        });
        outputs["ORT float32"] = torchAndOrt.Onnx();
        outputs["ORT int8"] = OrtInt8();
        outputs["Torch float32"] = torchAndOrt.Torch();
        float[] reference = outputs[ours[0].Name];
        return outputs.ToDictionary(p => p.Key, p => Quantized.Error(p.Value, reference));
    }

    public (string Name, Action Run)[] Contenders()
    {
        var list = ours.Select(o => (o.Name, (Action)(() => o.Net.Forward(x, steps, batch, o.Y, o.Hn, o.Cn)))).ToList();
        list.Add(("ORT float32", () => torchAndOrt.Onnx()));
        list.Add(("ORT int8", () => OrtInt8()));
        list.Add(("Torch float32", torchAndOrt.TorchOnly));
        return [.. list];
    }

    public void Dispose()
    {
        foreach (var o in ours)
        {
            if (!ReferenceEquals(o.Net, m.Ours)) o.Net.Dispose();
        }
        torchAndOrt.Dispose();
        run.Dispose();
    }
}

/// <summary>Our network in each weight format Lstm.Core offers; the first is float32 (the reference for errors).</summary>
internal static class OursFormats
{
    public static IEnumerable<(string Name, RecurrentNetwork Net)> All(RecurrentNetwork float32)
    {
        yield return ("ours float32", float32);
        yield return ("ours float16", float32.WithWeightFormat(Lstm.Simd.WeightFormat.Float16));
        yield return ("ours bfloat16", float32.WithWeightFormat(Lstm.Simd.WeightFormat.BFloat16));
        yield return ("ours int8", float32.WithWeightFormat(Lstm.Simd.WeightFormat.Int8));
    }
}
