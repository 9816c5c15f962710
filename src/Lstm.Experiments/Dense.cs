using System.Numerics.Tensors;
using Lstm.Simd;

namespace Lstm.Experiments;

/// <summary>A dense output layer y = x·Wᵀ + b, W [O, I]; the softmax or identity that follows lives in the loss.</summary>
public sealed class Dense
{
    private readonly PackedMatrix packed;

    public Dense(int inputs, int outputs, SeededRandom random)
    {
        ArgumentNullException.ThrowIfNull(random);
        if (inputs <= 0) throw new ArgumentOutOfRangeException(nameof(inputs), inputs, "inputs must be ≥ 1.");
        if (outputs <= 0) throw new ArgumentOutOfRangeException(nameof(outputs), outputs, "outputs must be ≥ 1.");
        Inputs = inputs;
        Outputs = outputs;
        Weight = new float[outputs * inputs];
        Bias = new float[outputs];
        double bound = 1 / Math.Sqrt(inputs);
        for (int i = 0; i < Weight.Length; i++) Weight[i] = (float)random.Uniform(-bound, bound);
        packed = PackedMatrix.Pack(Weight, Outputs, Inputs, Bias, forBackward: true);
    }

    public int Inputs { get; }

    public int Outputs { get; }

    /// <summary>[O, I], live: call <see cref="Update"/> after changing it.</summary>
    public float[] Weight { get; }

    /// <summary>[O], live.</summary>
    public float[] Bias { get; }

    /// <summary>Repacks (in place: no allocation) after <see cref="Weight"/> or <see cref="Bias"/> changed.</summary>
    public void Update() => packed.Repack(Weight, Bias);

    /// <summary>y [rows, O] = x [rows, I]·Wᵀ + b.</summary>
    public void Forward(ReadOnlySpan<float> x, int rows, Span<float> y) => Gemm.Multiply(x, rows, packed, y);

    /// <summary>dx [rows, I] = dy·W; dW += dyᵀ·x; db += Σ dy.</summary>
    public void Backward(ReadOnlySpan<float> x, ReadOnlySpan<float> dy, int rows, Span<float> dx, float[] dWeight, float[] dBias)
    {
        ArgumentNullException.ThrowIfNull(dWeight);
        ArgumentNullException.ThrowIfNull(dBias);
        Gemm.MultiplyByWeights(dy, rows, packed, dx);
        Gemm.AccumulateWeightGradient(dy, x, rows, Outputs, Inputs, dWeight);
        for (int r = 0; r < rows; r++)
        {
            TensorPrimitives.Add(dBias, dy.Slice(r * Outputs, Outputs), dBias);
        }
    }
}
