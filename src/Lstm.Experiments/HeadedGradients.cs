namespace Lstm.Experiments;

/// <summary>
/// The gradients of a recurrent network topped by a <see cref="Dense"/> layer, from one backward pass, kept in one
/// fixed order (the network's tensors in <c>state_dict</c> order, then the head's weight and bias): the order the
/// optimizer's state follows, so every trainer clips and applies them alike. A trainer keeps one and refills it every
/// step (<see cref="Refill"/>): with a trace from <see cref="RecurrentNetwork.CreateTrace"/>, a step then allocates nothing.
/// </summary>
internal sealed class HeadedGradients
{
    private readonly ParameterSet network;
    private readonly float[] headWeight;
    private readonly float[] headBias;
    private readonly float[][] all;                  // every gradient tensor, in the fixed order (for clipping)
    private (float[] Parameter, float[] Gradient)[]? pairs; // the same order with the live parameters, made at the first update
    private readonly Action<ParameterSet> update;    // one delegate for every step, so UpdateParameters costs no closure
    private float[] dY = [];
    private Dense? head;
    private Optimizer? optimizer;
    private double learningRate;
    private string? poisoned;

    public HeadedGradients(RecurrentNetwork net, Dense head)
    {
        ArgumentNullException.ThrowIfNull(net);
        ArgumentNullException.ThrowIfNull(head);
        network = net.CreateGradients();
        headWeight = new float[head.Weight.Length];
        headBias = new float[head.Bias.Length];
        all = new float[network.Infos.Count + 2][];
        for (int i = 0; i < network.Infos.Count; i++) all[i] = network[i];
        all[^2] = headWeight;
        all[^1] = headBias;
        update = Update;
    }

    /// <summary>Backpropagates <paramref name="dHead"/> ([rows, O], the gradient of the head's outputs) through head and network.</summary>
    public static HeadedGradients Backward(RecurrentNetwork net, Dense head, TrainingTrace trace, ReadOnlySpan<float> dHead, int rows)
    {
        var g = new HeadedGradients(net, head);
        g.Refill(net, head, trace, dHead, rows);
        return g;
    }

    /// <summary>
    /// This step's gradients in place of the last step's (the same values as a fresh <see cref="Backward"/>); dX is not
    /// computed, as nothing reads it.
    /// </summary>
    public void Refill(RecurrentNetwork net, Dense head, TrainingTrace trace, ReadOnlySpan<float> dHead, int rows)
    {
        foreach (float[] g in all) Array.Clear(g);
        if (dY.Length != rows * head.Inputs)
        {
            dY = new float[rows * head.Inputs];
        }
        head.Backward(trace.Result.Output, dHead, rows, dY, headWeight, headBias);
        net.BackwardInto(trace, dY, default, default, network, default, default, default);
    }

    /// <summary>Clips all tensors together; returns the norm before clipping (not finite if any gradient is not).</summary>
    public double ClipByGlobalNorm(double maxNorm) => GradientClipping.ClipByGlobalNorm(all, maxNorm);

    /// <summary>
    /// One optimizer step on every parameter, then both are repacked. Returns where the step made a parameter NaN or
    /// infinite ("weight_hh_l0[3] is NaN"), or null: finite gradients can still overflow a parameter.
    /// </summary>
    public string? Apply(RecurrentNetwork net, Dense head, Optimizer optimizer, double learningRate)
    {
        (this.head, this.optimizer, this.learningRate, poisoned) = (head, optimizer, learningRate, null);
        try
        {
            net.UpdateParameters(update);
        }
        finally
        {
            (this.head, this.optimizer) = (null, null);
        }
        head.Update();
        return poisoned;
    }

    private void Update(ParameterSet p)
    {
        if (pairs is null)
        {
            pairs = new (float[], float[])[all.Length];
            for (int i = 0; i < p.Infos.Count; i++) pairs[i] = (p[i], network[i]);
        }
        pairs[^2] = (head!.Weight, headWeight);
        pairs[^1] = (head.Bias, headBias);
        optimizer!.Step(pairs, learningRate);
        for (int i = 0; i < p.Infos.Count && poisoned is null; i++)
        {
            poisoned = Describe(p.Infos[i].Name, p[i]);
        }
        poisoned ??= Describe("head.weight", head.Weight) ?? Describe("head.bias", head.Bias);
    }

    // "name[index] is value" for the first non-finite value (the text is made only then), or null.
    private static string? Describe(string name, float[] values)
    {
        int i = Finite.FirstNonFinite(values);
        return i < 0 ? null : $"{name}[{i}] is {values[i]}";
    }
}
