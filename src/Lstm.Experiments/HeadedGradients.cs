namespace Lstm.Experiments;

/// <summary>
/// The gradients of a recurrent network topped by a <see cref="Dense"/> layer, from one backward pass, kept in one
/// fixed order (the network's tensors in <c>state_dict</c> order, then the head's weight and bias): the order the
/// optimizer's state follows, so every trainer clips and applies them alike.
/// </summary>
internal sealed class HeadedGradients
{
    private readonly ParameterSet network;
    private readonly float[] headWeight;
    private readonly float[] headBias;

    private HeadedGradients(ParameterSet network, float[] headWeight, float[] headBias)
    {
        this.network = network;
        this.headWeight = headWeight;
        this.headBias = headBias;
    }

    /// <summary>Backpropagates <paramref name="dHead"/> ([rows, O], the gradient of the head's outputs) through head and network.</summary>
    public static HeadedGradients Backward(RecurrentNetwork net, Dense head, TrainingTrace trace, ReadOnlySpan<float> dHead, int rows)
    {
        var g = new HeadedGradients(net.CreateGradients(), new float[head.Weight.Length], new float[head.Bias.Length]);
        float[] dY = new float[rows * head.Inputs];
        head.Backward(trace.Result.Output, dHead, rows, dY, g.headWeight, g.headBias);
        net.Backward(trace, dY, default, default, g.network);
        return g;
    }

    /// <summary>Clips all tensors together; returns the norm before clipping (not finite if any gradient is not).</summary>
    public double ClipByGlobalNorm(double maxNorm) =>
        GradientClipping.ClipByGlobalNorm(network.Infos.Select(i => network[i.Name]).Append(headWeight).Append(headBias), maxNorm);

    /// <summary>
    /// One optimizer step on every parameter, then both are repacked. Returns where the step made a parameter NaN or
    /// infinite ("weight_hh_l0[3] is NaN"), or null: finite gradients can still overflow a parameter.
    /// </summary>
    public string? Apply(RecurrentNetwork net, Dense head, Optimizer optimizer, double learningRate)
    {
        string? poisoned = null;
        net.UpdateParameters(p =>
        {
            optimizer.Step(
                p.Infos.Select(i => (p[i.Name], network[i.Name])).Append((head.Weight, headWeight)).Append((head.Bias, headBias)).ToList(),
                learningRate);
            poisoned = Finite.Describe(p.Infos.Select(i => KeyValuePair.Create(i.Name, p[i.Name]))
                .Append(KeyValuePair.Create("head.weight", head.Weight)).Append(KeyValuePair.Create("head.bias", head.Bias)));
        });
        head.Update();
        return poisoned;
    }
}
