namespace Lstm.Core.Training;

/// <summary>
/// Updates parameters from gradients, tensor by tensor, in a fixed order so training is bitwise deterministic.
/// Its state (momenta, moments) is exposed for checkpoints.
/// </summary>
public abstract class Optimizer
{
    /// <summary>The name written to checkpoints.</summary>
    public abstract string Kind { get; }

    /// <summary>Per tensor, the state arrays (each the tensor's length); created on first <see cref="Step"/>.</summary>
    public IReadOnlyList<float[][]> State => state;

    /// <summary>How many steps were taken (Adam's bias correction uses it); <see cref="Restore"/> sets it from a checkpoint.</summary>
    public long Steps { get; private set; }

    private List<float[][]> state = [];

    protected abstract int StatesPerTensor { get; }

    /// <summary>How many state arrays each tensor has (what a checkpoint must hold for it).</summary>
    public int StateArraysPerTensor => StatesPerTensor;

    /// <summary>One update of every (parameter, gradient) pair with learning rate <paramref name="learningRate"/>.</summary>
    public void Step(IReadOnlyList<(float[] Parameter, float[] Gradient)> tensors, double learningRate)
    {
        ArgumentNullException.ThrowIfNull(tensors);
        if (state.Count == 0)
        {
            state = tensors.Select(t => Enumerable.Range(0, StatesPerTensor).Select(_ => new float[t.Parameter.Length]).ToArray()).ToList();
        }
        if (state.Count != tensors.Count)
        {
            throw new ArgumentException($"The optimizer holds state for {state.Count} tensors; {tensors.Count} given.", nameof(tensors));
        }
        Steps++;
        for (int i = 0; i < tensors.Count; i++)
        {
            var (p, g) = tensors[i];
            if (p.Length != g.Length || state[i][0].Length != p.Length)
            {
                throw new ArgumentException($"Tensor {i}: parameter {p.Length}, gradient {g.Length}, state {state[i][0].Length} elements; all must agree.", nameof(tensors));
            }
            Update(p, g, state[i], learningRate);
        }
    }

    /// <summary>Restores state saved from <see cref="State"/>.</summary>
    public void Restore(IReadOnlyList<float[][]> saved, long steps)
    {
        ArgumentNullException.ThrowIfNull(saved);
        state = saved.Select(s => s.Select(a => (float[])a.Clone()).ToArray()).ToList();
        Steps = steps;
    }

    protected abstract void Update(float[] parameter, float[] gradient, float[][] state, double learningRate);
}

/// <summary>p -= lr·v with v = μ·v + g (μ = 0: plain SGD).</summary>
public sealed class Sgd(double momentum = 0) : Optimizer
{
    public double Momentum { get; } = momentum;

    public override string Kind => "sgd";

    protected override int StatesPerTensor => 1;

    protected override void Update(float[] parameter, float[] gradient, float[][] state, double learningRate)
    {
        float[] v = state[0];
        for (int i = 0; i < parameter.Length; i++)
        {
            v[i] = (float)((Momentum * v[i]) + gradient[i]);
            parameter[i] -= (float)(learningRate * v[i]);
        }
    }
}

/// <summary>Adam (Kingma &amp; Ba): m, v moments with bias correction.</summary>
public sealed class Adam(double beta1 = 0.9, double beta2 = 0.999, double epsilon = 1e-8) : Optimizer
{
    public override string Kind => "adam";

    protected override int StatesPerTensor => 2;

    protected override void Update(float[] parameter, float[] gradient, float[][] state, double learningRate)
    {
        float[] m = state[0], v = state[1];
        double c1 = 1 - Math.Pow(beta1, Steps), c2 = 1 - Math.Pow(beta2, Steps);
        for (int i = 0; i < parameter.Length; i++)
        {
            m[i] = (float)((beta1 * m[i]) + ((1 - beta1) * gradient[i]));
            v[i] = (float)((beta2 * v[i]) + ((1 - beta2) * gradient[i] * gradient[i]));
            parameter[i] -= (float)(learningRate * (m[i] / c1) / (Math.Sqrt(v[i] / c2) + epsilon));
        }
    }
}

/// <summary>Adadelta (Zeiler): running averages of g² and of the updates²; the learning rate scales the update (1 is the paper's).</summary>
public sealed class Adadelta(double rho = 0.95, double epsilon = 1e-6) : Optimizer
{
    public override string Kind => "adadelta";

    protected override int StatesPerTensor => 2;

    protected override void Update(float[] parameter, float[] gradient, float[][] state, double learningRate)
    {
        float[] eg = state[0], ex = state[1];
        for (int i = 0; i < parameter.Length; i++)
        {
            eg[i] = (float)((rho * eg[i]) + ((1 - rho) * gradient[i] * gradient[i]));
            double dx = -Math.Sqrt(ex[i] + epsilon) / Math.Sqrt(eg[i] + epsilon) * gradient[i];
            ex[i] = (float)((rho * ex[i]) + ((1 - rho) * dx * dx));
            parameter[i] += (float)(learningRate * dx);
        }
    }
}

/// <summary>Rescales all gradients together so their global L2 norm is at most a limit.</summary>
public static class GradientClipping
{
    /// <summary>Returns the norm before clipping; NaN or infinity if any gradient is not finite (nothing is changed then).</summary>
    public static double ClipByGlobalNorm(IEnumerable<float[]> gradients, double maxNorm)
    {
        ArgumentNullException.ThrowIfNull(gradients);
        return ClipByGlobalNorm((IReadOnlyList<float[]>)gradients.ToList(), maxNorm);
    }

    /// <summary>The same on a list a trainer keeps: indexed, no enumerator, so a training step allocates nothing here.</summary>
    public static double ClipByGlobalNorm(IReadOnlyList<float[]> list, double maxNorm)
    {
        double sq = 0;
        for (int i = 0; i < list.Count; i++)
            foreach (float v in list[i])
                sq += (double)v * v;
        double norm = Math.Sqrt(sq);
        if (double.IsFinite(norm) && norm > maxNorm && maxNorm > 0)
        {
            float scale = (float)(maxNorm / norm);
            for (int i = 0; i < list.Count; i++)
                System.Numerics.Tensors.TensorPrimitives.Multiply(list[i], scale, list[i]);
        }
        return norm;
    }
}

/// <summary>The learning rate at each step: constant, or multiplied by a factor every so many steps.</summary>
public sealed record LearningRateSchedule(double Initial, int DecayEvery = 0, double DecayFactor = 1)
{
    public static LearningRateSchedule Constant(double lr) => new(lr);

    public static LearningRateSchedule StepDecay(double lr, int every, double factor) => new(lr, every, factor);

    public double At(long step) => DecayEvery <= 0 ? Initial : Initial * Math.Pow(DecayFactor, step / DecayEvery);
}
