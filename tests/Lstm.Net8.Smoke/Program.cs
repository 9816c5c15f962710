using Lstm.Core;
using Lstm.Core.NumPy;
using Lstm.Simd;

// Runs the net8.0 assemblies on .NET 8: every SIMD path against the scalar twin (bitwise), the PyTorch fixture
// (float32 within 1e-5), streaming = sequence (bitwise), two threads = one (bitwise), the 16-bit and int8 networks
// (paths and threads bitwise). Exit 1 on any failure. .ci/run also builds it for net10.0 on linux-arm64 and runs it
// under qemu (-p:TargetFramework=net10.0 -r linux-arm64): the same checks on the Vector128 path and NEON.
int failures = 0;
void Check(bool ok, string what)
{
    Console.WriteLine($"{(ok ? "ok  " : "FAIL")} {what}");
    if (!ok) failures++;
}

Console.WriteLine($".NET {Environment.Version}; Lstm.Core for {typeof(RecurrentNetwork).Assembly.GetCustomAttributes(typeof(System.Runtime.Versioning.TargetFrameworkAttribute), false).Cast<System.Runtime.Versioning.TargetFrameworkAttribute>().Single().FrameworkName}; paths {string.Join(", ", SimdPaths.Available)}");
// The runtime it was built for (net8.0 unless retargeted), not a newer one rolled forward to.
int builtFor = new Version(typeof(RecurrentOptions).Assembly.GetCustomAttributes(typeof(System.Runtime.Versioning.TargetFrameworkAttribute), false)
    .Cast<System.Runtime.Versioning.TargetFrameworkAttribute>().Single().FrameworkName.Split("Version=v")[1]).Major;
Check(Environment.Version.Major == builtFor, $"runs on .NET {builtFor} ({System.Runtime.InteropServices.RuntimeInformation.ProcessArchitecture})");

float[] x = Enumerable.Range(0, 7 * 3 * 5).Select(i => MathF.Sin(i * 0.37f)).ToArray();
var options = new RecurrentOptions(5, 70, Layers: 2, Peepholes: true);
float[]? scalar = null;
foreach (SimdPath path in SimdPaths.Available.Reverse())
{
    RecurrentNetwork net = RecurrentNetwork.Create(options, 1, path);
    float[] y = net.Forward(x, 7, 3).Output;
    scalar ??= y;
    Check(y.AsSpan().SequenceEqual(scalar), $"{path} forward equals the scalar twin bit for bit");
    float[] a = Enumerable.Range(0, 1000).Select(i => (i - 500) * 0.05f).ToArray(), s1 = new float[1000], s2 = new float[1000];
    Activation.Tanh(a, s1, path);
    Activation.Tanh(a, s2, SimdPath.Scalar);
    Check(s1.AsSpan().SequenceEqual(s2), $"{path} tanh equals the scalar twin bit for bit");
}

RecurrentNetwork one = RecurrentNetwork.Create(new RecurrentOptions(5, 130), 2);
using (StreamState a = one.CreateStream(1), b = one.CreateStream(1, threads: 2))
{
    float[] ya = new float[130], yb = new float[130];
    bool same = true;
    for (int t = 0; t < 50; t++)
    {
        one.Step(a, x.AsSpan(t % 20 * 5, 5), ya);
        one.Step(b, x.AsSpan(t % 20 * 5, 5), yb);
        same &= ya.AsSpan().SequenceEqual(yb);
    }
    Check(same, "a stream on two threads equals one thread bit for bit");
}

// The 16-bit and int8 GEMMs (on net8.0 the int8 tiles are the widening ones: AvxVnni is a preview API there).
foreach (KernelComparison r in QuantizedKernelCheck.Run())
{
    Check(r.Differing == 0, $"{r.Kernel}: {r.Differing} of {r.Compared} values differ");
}

// The PyTorch fixtures (meta = I, H, L, D, B, T), float32: forward and every gradient within 1e-5, as in the suite.
string fixtures = Path.Combine(Lstm.Tests.Shared.Repository.Shared(), "fixtures", "pytorch-lstm");
foreach (string name in new[] { "tiny_f32", "stack_bidir_f32" })
{
    string file = Path.Combine(fixtures, name + ".npz");
    if (!File.Exists(file))
    {
        Check(false, $"fixture {file} exists");
        continue;
    }
    var a = Npz.Read(file);
    int[] m = a["meta"].Data.Select(v => (int)v).ToArray();
    var o = new RecurrentOptions(m[0], m[1], m[2], Bidirectional: m[3] == 2);
    int steps = m[5], batch = m[4];
    foreach (SimdPath path in SimdPaths.Available)
    {
        RecurrentNetwork net = RecurrentNetwork.FromParameters(o, ParameterLayout.For(o).ToDictionary(i => i.Name, i => a[i.Name].ToSingle()), path);
        using TrainingTrace tr = net.ForwardTraining(a["x"].ToSingle(), steps, batch, a["h0"].ToSingle(), a["c0"].ToSingle());
        ParameterSet g = net.CreateGradients();
        InputGradients d = net.Backward(tr, a["dy"].ToSingle(), a["dhn"].ToSingle(), a["dcn"].ToSingle(), g);
        double worst = new[] { (tr.Result.Output, "y"), (tr.Result.Hn, "hn"), (tr.Result.Cn, "cn"), (d.DX, "grad_x"), (d.DH0, "grad_h0"), (d.DC0, "grad_c0") }
            .Concat(net.ParameterInfos.Select(i => (g[i.Name], "grad_" + i.Name)))
            .Max(p => p.Item1.Zip(a[p.Item2].Data, (u, v) => Math.Abs(u - v) / (1 + Math.Abs(v))).DefaultIfEmpty(0).Max());
        Check(worst <= 1e-5, $"{name} on {path}: y, hn, cn and every gradient match PyTorch (worst {worst:E1}, bound 1e-5)");
    }
}

// Weight formats (issue 11): each reduced format's network equals its scalar-path twin on every path, and on two
// threads equals one, bit for bit.
foreach (WeightFormat format in new[] { WeightFormat.Float16, WeightFormat.BFloat16, WeightFormat.Int8 })
{
    float[]? first = null;
    foreach (SimdPath path in SimdPaths.Available.Reverse())
    {
        using RecurrentNetwork net = RecurrentNetwork.Create(new RecurrentOptions(5, 130, Layers: 2), 3, path).WithWeightFormat(format);
        float[] y = net.Forward(x, 7, 3).Output;
        first ??= y;
        net.Threads = 2;
        Check(y.AsSpan().SequenceEqual(first) && net.Forward(x, 7, 3).Output.AsSpan().SequenceEqual(y),
            $"{format} network on {path}: equals the scalar path, and two threads equal one, bit for bit");
    }
}

Console.WriteLine(failures == 0 ? $"net{builtFor}.0 smoke ({System.Runtime.InteropServices.RuntimeInformation.ProcessArchitecture}): ok" : $"net{builtFor}.0 smoke: {failures} failed");
return failures == 0 ? 0 : 1;
