using Lstm.Core;
using Lstm.Core.Interop;
using Lstm.Core.NumPy;
using Lstm.Simd;

namespace Lstm.Core.Tests;

/// <summary>Issue 14's import items: cell modules, bias=False, ReLU, several modules in one file, FromParameters' other keys.</summary>
public class FamilyImportTests
{
    private static string FixturePath(string name) => Path.Combine(Helpers.RepositoryRoot(), "tests", "Lstm.Core.Tests", "Fixtures", "family", name + ".npz");

    public static TheoryData<string, SimdPath> CellCases()
    {
        var d = new TheoryData<string, SimdPath>();
        foreach (string f in new[] { "lstmcell", "rnncell", "grucell" })
        {
            foreach (SimdPath p in SimdPaths.Available) d.Add(f, p);
        }
        return d;
    }

    [Theory]
    [MemberData(nameof(CellCases))]
    public void CellModule_ImportsAsOneLayer_AndRunsAsPyTorchsLoopOverSteps(string file, SimdPath path)
    {
        // The fixture holds the cell's state_dict under "model." beside x, y and the gradients (grad_weight_ih is no module:
        // a prefix must end in a dot).
        ImportedNetwork imported = PyTorchImport.Load(FixturePath(file + "_f32"), new PyTorchImportSettings { KernelPath = path });
        FamilyFixtureTests.Fixture f = FamilyFixtureTests.Load(file + "_f32");
        Assert.True(imported.IsCellModule);
        Assert.Equal("model.", imported.Prefix);
        Assert.Equal(f.Options, imported.Options);
        RecurrentNetwork net = imported.Network;
        using TrainingTrace tr = net.ForwardTraining(f.A["x"].ToSingle(), f.Steps, f.Batch, f.A["h0"].ToSingle(), f.Lstm ? f.A["c0"].ToSingle() : []);
        ParameterSet g = net.CreateGradients();
        InputGradients d = net.Backward(tr, f.A["dy"].ToSingle(), f.A["dhn"].ToSingle(), f.Lstm ? f.A["dcn"].ToSingle() : [], g);
        FamilyFixtureTests.Check(tr.Result.Output, f.A["y"], "y");
        FamilyFixtureTests.Check(tr.Result.Hn, f.A["hn"], "hn");
        FamilyFixtureTests.Check(d.DX, f.A["grad_x"], "grad_x");
        FamilyFixtureTests.Check(d.DH0, f.A["grad_h0"], "grad_h0");
        if (f.Lstm)
        {
            FamilyFixtureTests.Check(tr.Result.Cn, f.A["cn"], "cn");
            FamilyFixtureTests.Check(d.DC0, f.A["grad_c0"], "grad_c0");
        }
        foreach (ParameterInfo info in net.ParameterInfos)
        {
            string cellName = info.Name.Replace("_l0", "", StringComparison.Ordinal); // weight_ih_l0 is the cell's weight_ih
            FamilyFixtureTests.Check(g[info.Name], f.A["grad_" + cellName], "grad_" + cellName);
        }
    }

    [Fact]
    public void CellModule_ErrorsUseTheCellsKeyNames()
    {
        FamilyFixtureTests.Fixture f = FamilyFixtureTests.Load("lstmcell_f32");
        var tensors = new List<NamedTensor>
        {
            new("cell.weight_ih", f.A["model.weight_ih"].Shape, f.A["model.weight_ih"].ToSingle(), "F32"),
            new("cell.weight_hh", f.A["model.weight_hh"].Shape, f.A["model.weight_hh"].ToSingle(), "F32"),
            new("cell.bias_ih", [3], new float[3], "F32"),
        };
        var e = Assert.Throws<InvalidDataException>(() => PyTorchImport.FromTensors(tensors));
        Assert.Contains("LSTM cell", e.Message);
        Assert.Contains("cell.bias_ih is [3], expected [28]", e.Message);
        Assert.Contains("missing cell.bias_hh [28]", e.Message);
        Assert.DoesNotContain("_l0", e.Message);
    }

    [Fact]
    public void NoBiasStateDict_ImportsWithoutBias()
    {
        ImportedNetwork imported = PyTorchImport.Load(FixturePath("lstm_nobias_f32"));
        Assert.False(imported.Options.Bias);
        Assert.DoesNotContain(imported.Network.ParameterInfos, i => i.Role is ParameterRole.BiasIh or ParameterRole.BiasHh);
        FamilyFixtureTests.Fixture f = FamilyFixtureTests.Load("lstm_nobias_f32");
        SequenceOutput r = imported.Network.Forward(f.A["x"].ToSingle(), f.Steps, f.Batch, f.A["h0"].ToSingle(), f.A["c0"].ToSingle());
        FamilyFixtureTests.Check(r.Output, f.A["y"], "y");
    }

    [Fact]
    public void ReluStateDict_RunsAsTanhByDefault_AndAsReluWhenSaid()
    {
        FamilyFixtureTests.Fixture f = FamilyFixtureTests.Load("rnn_relu_f32");
        SequenceOutput Run(RnnNonlinearity n) =>
            PyTorchImport.Load(FixturePath("rnn_relu_f32"), new PyTorchImportSettings { Nonlinearity = n }).Network.Forward(f.A["x"].ToSingle(), f.Steps, f.Batch, f.A["h0"].ToSingle());
        FamilyFixtureTests.Check(Run(RnnNonlinearity.Relu).Output, f.A["y"], "y (ReLU)");
        Assert.True(Helpers.WorstError(Run(RnnNonlinearity.Tanh).Output, f.A["y"].Data) > 1e-2, "a state_dict cannot say ReLU: tanh is the default");
        var e = Assert.Throws<ArgumentException>(() => PyTorchImport.Load(FixturePath("lstm_nobias_f32"), new PyTorchImportSettings { Nonlinearity = RnnNonlinearity.Relu }));
        Assert.Contains("applies to an RNN", e.Message);
    }

    [Fact]
    public void SeveralModules_AreListed_AndThePrefixChoosesOne()
    {
        string multi = Path.Combine(Helpers.RepositoryRoot(), "tests", "Lstm.Core.Tests", "Fixtures", "family", "multi.npz");
        var e = Assert.Throws<InvalidDataException>(() => PyTorchImport.Load(multi));
        Assert.Contains("2 recurrent modules", e.Message);
        Assert.Contains("'decoder.rnn.' (weight_ih_l0 [2, 4])", e.Message);
        Assert.Contains("'encoder.rnn.' (weight_ih_l0 [16, 3])", e.Message);
        Assert.Contains("--prefix", e.Message);

        ImportedNetwork enc = PyTorchImport.Load(multi, new PyTorchImportSettings { Prefix = "encoder.rnn" });
        Assert.Equal(new RecurrentOptions(3, 4), enc.Options);
        Assert.Equal("encoder.rnn.", enc.Prefix);
        Assert.Contains("decoder.rnn.weight_ih_l0", enc.IgnoredKeys);
        Assert.Contains("head.weight", enc.IgnoredKeys);
        ImportedNetwork dec = PyTorchImport.Load(multi, new PyTorchImportSettings { Prefix = "decoder.rnn." });
        Assert.Equal(new RecurrentOptions(4, 2, Cell: CellKind.Rnn), dec.Options);

        e = Assert.Throws<InvalidDataException>(() => PyTorchImport.Load(multi, new PyTorchImportSettings { Prefix = "encoder." }));
        Assert.Contains("No recurrent module at prefix 'encoder.'", e.Message);
        Assert.Contains("'encoder.rnn.'", e.Message);
    }

    [Fact]
    public void NestedModules_DoNotLendEachOtherTheirKeys()
    {
        var outer = RecurrentNetwork.Create(new RecurrentOptions(2, 3), 1);
        var inner = RecurrentNetwork.Create(new RecurrentOptions(3, 2, Cell: CellKind.Rnn), 2);
        var tensors = outer.ParameterInfos.Select(i => new NamedTensor("m." + i.Name, i.Shape, outer.GetParameter(i.Name), "F32"))
            .Concat(inner.ParameterInfos.Select(i => new NamedTensor("m.inner." + i.Name, i.Shape, inner.GetParameter(i.Name), "F32"))).ToList();
        ImportedNetwork a = PyTorchImport.FromTensors(tensors, new PyTorchImportSettings { Prefix = "m." });
        Assert.Equal(outer.Options, a.Options);
        Assert.Equal(inner.ParameterInfos.Count, a.IgnoredKeys.Count);
        Assert.Equal(inner.Options, PyTorchImport.FromTensors(tensors, new PyTorchImportSettings { Prefix = "m.inner" }).Options);
    }

    [Fact]
    public void FromParameters_IgnoresOtherKeysWhenAsked_AndStillReportsMissingOnes()
    {
        var o = new RecurrentOptions(2, 3, Cell: CellKind.Rnn, Bias: false);
        RecurrentNetwork source = RecurrentNetwork.Create(o, 4);
        var values = source.ParameterInfos.ToDictionary(i => i.Name, i => source.GetParameter(i.Name));
        values["head.weight"] = new float[6];
        var e = Assert.Throws<ArgumentException>(() => RecurrentNetwork.FromParameters(o, values));
        Assert.Contains("unexpected [head.weight]", e.Message);
        RecurrentNetwork net = RecurrentNetwork.FromParameters(o, values, ignoreOtherKeys: true);
        Helpers.AssertBitwise(source.Forward([1f, 2f], 1, 1).Output, net.Forward([1f, 2f], 1, 1).Output, "y");
        values.Remove("weight_hh_l0");
        e = Assert.Throws<ArgumentException>(() => RecurrentNetwork.FromParameters(o, values, ignoreOtherKeys: true));
        Assert.Contains("missing [weight_hh_l0]", e.Message);
    }
}
