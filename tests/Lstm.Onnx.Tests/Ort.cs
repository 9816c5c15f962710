using Microsoft.ML.OnnxRuntime;

namespace Lstm.Onnx.Tests;

/// <summary>ONNX Runtime on a model's bytes: named float inputs in, every graph output out (values and shape).</summary>
internal static class Ort
{
    public static Dictionary<string, (float[] Values, long[] Shape)> Run(byte[] model, params (string Name, float[] Values, long[] Shape)[] inputs)
    {
        using var options = new SessionOptions { IntraOpNumThreads = 1, InterOpNumThreads = 1 };
        using var session = new InferenceSession(model, options);
        var values = inputs.Select(i => OrtValue.CreateTensorValueFromMemory(i.Values, i.Shape)).ToList();
        try
        {
            string[] outputs = [.. session.OutputMetadata.Keys];
            using var run = new RunOptions();
            using IDisposableReadOnlyCollection<OrtValue> results = session.Run(run, [.. inputs.Select(i => i.Name)], values, outputs);
            var map = new Dictionary<string, (float[], long[])>();
            for (int k = 0; k < outputs.Length; k++)
            {
                map[outputs[k]] = (results[k].GetTensorDataAsSpan<float>().ToArray(), results[k].GetTensorTypeAndShape().Shape);
            }
            return map;
        }
        finally
        {
            foreach (OrtValue v in values) v.Dispose();
        }
    }
}

/// <summary>The agreement bound between two float32 implementations of the same network.</summary>
internal static class Agreement
{
    /// <summary>
    /// |ours − theirs| ≤ 1e-5 · (1 + |theirs|): the bound for float32 runs of the same weights by different
    /// kernels (different summation orders and activation approximations; measured differences are ~1e-7).
    /// </summary>
    public const double Scaled = 1e-5;

    public static void Equal(ReadOnlySpan<float> expected, ReadOnlySpan<float> actual, string what, double bound = Scaled)
    {
        Assert.True(expected.Length == actual.Length, $"{what}: {actual.Length} values, expected {expected.Length}.");
        for (int i = 0; i < expected.Length; i++)
        {
            double err = Math.Abs(expected[i] - actual[i]) / (1 + Math.Abs(expected[i]));
            Assert.True(err <= bound, $"{what}[{i}]: {actual[i]} against {expected[i]} (scaled error {err:E2} > {bound:E0}).");
        }
    }
}
