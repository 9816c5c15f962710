namespace Lstm.Core.Reference;

public sealed partial class ReferenceNetwork
{
    /// <summary>
    /// Backpropagation through time for the loss whose gradients with respect to y, hn and cn are
    /// <paramref name="dy"/>, <paramref name="dhn"/>, <paramref name="dcn"/> (null for zeros).
    /// </summary>
    public ReferenceGradients Backward(ReferenceTrace trace, double[] dy, double[]? dhn = null, double[]? dcn = null)
    {
        ArgumentNullException.ThrowIfNull(trace);
        ArgumentNullException.ThrowIfNull(dy);
        RecurrentOptions o = Options;
        if (o.Cell == CellKind.Gru)
        {
            return BackwardGru(trace, dy, dhn);
        }
        int L = o.Layers, D = o.Directions, H = o.HiddenSize, G = o.Gates, B = trace.Batch, T = trace.Steps;
        var grads = new ReferenceGradients { DH0 = new double[D * L * B * H], DC0 = o.Cell == CellKind.Lstm ? new double[D * L * B * H] : [] };
        foreach (ParameterInfo info in Infos) grads.Parameters[info.Name] = new double[info.Length];
        double[] dAbove = o.BatchFirst ? SwapTB(dy, B, T, o.OutputSize) : (double[])dy.Clone();

        for (int l = L - 1; l >= 0; l--)
        {
            int inSize = o.LayerInputSize(l);
            double[] input = trace.LayerInputs[l], y = trace.LayerOutputs[l];
            double[] dIn = new double[T * B * inSize];
            for (int d = 0; d < D; d++)
            {
                int slot = (l * D) + d;
                string name(ParameterRole r) => Infos.First(i => i.Layer == l && i.Direction == d && i.Role == r).Name;
                double[] wih = P(ParameterRole.WeightIh, l, d), whh = P(ParameterRole.WeightHh, l, d);
                double[]? peep = o.Peepholes ? P(ParameterRole.Peephole, l, d) : null;
                double[] dWih = grads.Parameters[name(ParameterRole.WeightIh)], dWhh = grads.Parameters[name(ParameterRole.WeightHh)];
                double[] dBih = grads.Parameters[name(ParameterRole.BiasIh)], dBhh = grads.Parameters[name(ParameterRole.BiasHh)];
                double[]? dPeep = o.Peepholes ? grads.Parameters[name(ParameterRole.Peephole)] : null;
                double[] act = trace.Act[slot], cAll = trace.C[slot];
                double[] dh = dhn is null ? new double[B * H] : dhn.AsSpan(slot * B * H, B * H).ToArray();
                double[] dc = dcn is null ? new double[B * H] : dcn.AsSpan(slot * B * H, B * H).ToArray();

                for (int s = T - 1; s >= 0; s--)
                {
                    int t = d == 0 ? s : T - 1 - s, tPrev = d == 0 ? t - 1 : t + 1;
                    double[] dhPrev = new double[B * H];
                    for (int b = 0; b < B; b++)
                    {
                        double hPrev(int k) => s == 0 ? trace.H0[(slot * B * H) + (b * H) + k] : y[(((tPrev * B) + b) * D * H) + (d * H) + k];
                        double cPrev(int k) => s == 0 ? trace.C0[(slot * B * H) + (b * H) + k] : cAll[(((tPrev * B) + b) * H) + k];
                        int a0 = ((t * B) + b) * G * H;
                        double[] dPre = new double[G * H];
                        for (int j = 0; j < H; j++)
                        {
                            double dhT = dAbove[(((t * B) + b) * D * H) + (d * H) + j] + dh[(b * H) + j]; // dh_t = dy_t + dh from t+1
                            if (o.Cell == CellKind.Rnn)
                            {
                                double h = act[a0 + j];
                                dPre[j] = dhT * (1 - (h * h));                                   // dpre = dh·(1 - h²)
                                continue;
                            }
                            double i = act[a0 + j], f = act[a0 + H + j], g = act[a0 + (2 * H) + j], og = act[a0 + (3 * H) + j];
                            double c = cAll[(((t * B) + b) * H) + j], cp = cPrev(j), tc = Math.Tanh(c);
                            double dOg = dhT * tc * og * (1 - og);                               // dpre_o = dh·tanh(c)·o(1-o)
                            double dcT = dc[(b * H) + j] + (dhT * og * (1 - (tc * tc)))           // dc = dc' + dh·o·(1 - tanh²c) [+ dpre_o·p_o]
                                + (peep is null ? 0 : dOg * peep[(2 * H) + j]);
                            double dI = dcT * g * i * (1 - i);                                   // dpre_i = dc·g·i(1-i)
                            double dF = o.ForgetGate ? dcT * cp * f * (1 - f) : 0;               // dpre_f = dc·c'·f(1-f)
                            double dG = dcT * i * (1 - (g * g));                                 // dpre_g = dc·i·(1-g²)
                            dPre[j] = dI; dPre[H + j] = dF; dPre[(2 * H) + j] = dG; dPre[(3 * H) + j] = dOg;
                            dc[(b * H) + j] = (dcT * f)                                          // dc_{t-1} = dc·f [+ dpre_i·p_i + dpre_f·p_f]
                                + (peep is null ? 0 : (dI * peep[j]) + (dF * peep[H + j]));
                            if (dPeep is not null)
                            {
                                dPeep[j] += dI * cp; dPeep[H + j] += dF * cp; dPeep[(2 * H) + j] += dOg * c; // dp = dpre·c
                            }
                        }
                        for (int r = 0; r < G * H; r++)
                        {
                            dBih[r] += dPre[r];                                                 // db_ih += dpre
                            dBhh[r] += dPre[r];                                                 // db_hh += dpre
                            for (int k = 0; k < inSize; k++)
                            {
                                dWih[(r * inSize) + k] += dPre[r] * input[(((t * B) + b) * inSize) + k]; // dW_ih += dpre·xᵀ
                                dIn[(((t * B) + b) * inSize) + k] += dPre[r] * wih[(r * inSize) + k];    // dx += W_ihᵀ·dpre
                            }
                            for (int k = 0; k < H; k++)
                            {
                                dWhh[(r * H) + k] += dPre[r] * hPrev(k);                          // dW_hh += dpre·h_{t-1}ᵀ
                                dhPrev[(b * H) + k] += dPre[r] * whh[(r * H) + k];                // dh_{t-1} = W_hhᵀ·dpre
                            }
                        }
                    }
                    dh = dhPrev;
                }
                dh.CopyTo(grads.DH0, slot * B * H);
                if (o.Cell == CellKind.Lstm) dc.CopyTo(grads.DC0, slot * B * H);
            }
            dAbove = dIn;
        }
        grads.DX = o.BatchFirst ? SwapTB(dAbove, T, B, o.InputSize) : dAbove;
        return grads;
    }
}
