namespace Lstm.Core.Reference;

public sealed partial class ReferenceNetwork
{
    // The GRU, forward: per layer, direction, step and row, one loop per equation (PyTorch's nn.GRU, and ONNX's
    // linear_before_reset = 0 when the option is off). Act keeps r, z, n; C keeps the recurrent part of n before r
    // (W_hn h' + b_hn), or r⊙h' without linear_before_reset. Row b runs lengths[b] steps, as ReferenceNetwork.Forward's
    // LSTM and RNN do: the reverse direction starts at its last valid step, y past its length is 0, hn its last h.
    private ReferenceTrace ForwardGru(double[] x, int steps, int batch, double[]? h0, int[] lengths)
    {
        RecurrentOptions o = Options;
        int L = o.Layers, D = o.Directions, H = o.HiddenSize, B = batch, T = steps;
        var tr = new ReferenceTrace(T, B)
        {
            H0 = h0 ?? new double[D * L * B * H],
            C0 = [],
            LayerInputs = new double[L][],
            LayerOutputs = new double[L][],
            Act = new double[L * D][],
            C = new double[L * D][],
            Hn = new double[D * L * B * H],
            Cn = [],
            Lengths = (int[])lengths.Clone(),
        };
        double[] input = o.BatchFirst ? SwapTB(x, B, T, o.InputSize) : (double[])x.Clone();
        for (int l = 0; l < L; l++)
        {
            int inSize = o.LayerInputSize(l);
            double[] y = new double[T * B * D * H];
            tr.LayerInputs[l] = input;
            tr.LayerOutputs[l] = y;
            for (int d = 0; d < D; d++)
            {
                int slot = (l * D) + d;
                double[] wih = P(ParameterRole.WeightIh, l, d), whh = P(ParameterRole.WeightHh, l, d);
                double[] bih = o.Bias ? P(ParameterRole.BiasIh, l, d) : new double[3 * H], bhh = o.Bias ? P(ParameterRole.BiasHh, l, d) : new double[3 * H]; // bias=False: 0
                double[] act = new double[T * B * 3 * H], kept = new double[T * B * H];
                tr.Act[slot] = act;
                tr.C[slot] = kept;
                double[] hPrev = tr.H0.AsSpan(slot * B * H, B * H).ToArray();
                for (int s = 0; s < T; s++)
                {
                    int Time(int b) => d == 0 ? s : lengths[b] - 1 - s; // the reverse direction starts at the row's last valid step
                    for (int b = 0; b < B; b++)
                    {
                        if (s >= lengths[b]) continue;                                      // past this row's length
                        int t = Time(b);
                        double[] hp = hPrev.AsSpan(b * H, H).ToArray(), xt = input.AsSpan(((t * B) + b) * inSize, inSize).ToArray();
                        double[] gi = new double[3 * H], gh = new double[3 * H];
                        for (int r = 0; r < 3 * H; r++)
                        {
                            gi[r] = bih[r] + Dot(wih, r * inSize, xt);                      // gi = W_ih x + b_ih
                            gh[r] = bhh[r] + Dot(whh, r * H, hp);                           // gh = W_hh h' + b_hh
                        }
                        double[] rg = new double[H];
                        for (int j = 0; j < H; j++) rg[j] = Sigmoid(gi[j] + gh[j]);         // r = σ(gi_r + gh_r)
                        double[] rh = new double[H];
                        for (int k = 0; k < H; k++) rh[k] = rg[k] * hp[k];                  // r ⊙ h'
                        int a0 = ((t * B) + b) * 3 * H, k0 = ((t * B) + b) * H;
                        for (int j = 0; j < H; j++)
                        {
                            double z = Sigmoid(gi[H + j] + gh[H + j]);                      // z = σ(gi_z + gh_z)
                            double q = o.LinearBeforeReset
                                ? gh[(2 * H) + j]                                           // W_hn h' + b_hn
                                : bhh[(2 * H) + j] + Dot(whh, ((2 * H) + j) * H, rh);       // W_hn (r ⊙ h') + b_hn
                            double n = Math.Tanh(gi[(2 * H) + j] + (o.LinearBeforeReset ? rg[j] * q : q)); // n = tanh(gi_n + r ⊙ q | q)
                            double h = ((1 - z) * n) + (z * hp[j]);                         // h = (1 − z) n + z h'
                            act[a0 + j] = rg[j]; act[a0 + H + j] = z; act[a0 + (2 * H) + j] = n;
                            kept[k0 + j] = o.LinearBeforeReset ? q : rh[j];
                            y[(((t * B) + b) * D * H) + (d * H) + j] = h;
                        }
                    }
                    for (int b = 0; b < B; b++)
                    {
                        for (int j = 0; j < H && s < lengths[b]; j++) hPrev[(b * H) + j] = y[(((Time(b) * B) + b) * D * H) + (d * H) + j];
                    }
                }
                hPrev.CopyTo(tr.Hn, slot * B * H);
            }
            input = y;
        }
        tr.Output = o.BatchFirst ? SwapTB(input, T, B, o.OutputSize) : input;
        return tr;
    }

    // The GRU, backward through time, the chain rule written out per equation of ForwardGru.
    private ReferenceGradients BackwardGru(ReferenceTrace trace, double[] dy, double[]? dhn)
    {
        RecurrentOptions o = Options;
        int L = o.Layers, D = o.Directions, H = o.HiddenSize, B = trace.Batch, T = trace.Steps;
        var grads = new ReferenceGradients { DH0 = new double[D * L * B * H], DC0 = [] };
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
                double[] dWih = grads.Parameters[name(ParameterRole.WeightIh)], dWhh = grads.Parameters[name(ParameterRole.WeightHh)];
                double[] dBih = o.Bias ? grads.Parameters[name(ParameterRole.BiasIh)] : new double[3 * H]; // bias=False: computed, not kept
                double[] dBhh = o.Bias ? grads.Parameters[name(ParameterRole.BiasHh)] : new double[3 * H];
                double[] act = trace.Act[slot], kept = trace.C[slot];
                double[] dh = dhn is null ? new double[B * H] : dhn.AsSpan(slot * B * H, B * H).ToArray();
                for (int s = T - 1; s >= 0; s--)
                {
                    double[] dhPrev = new double[B * H];
                    for (int b = 0; b < B; b++)
                    {
                        if (s >= trace.Lengths[b])
                        {
                            Array.Copy(dh, b * H, dhPrev, b * H, H); // not yet at this row's last valid step: dhn waits
                            continue;
                        }
                        int t = d == 0 ? s : trace.Lengths[b] - 1 - s, tPrev = d == 0 ? t - 1 : t + 1;
                        double hPrev(int k) => s == 0 ? trace.H0[(slot * B * H) + (b * H) + k] : y[(((tPrev * B) + b) * D * H) + (d * H) + k];
                        int a0 = ((t * B) + b) * 3 * H, k0 = ((t * B) + b) * H;
                        double[] dGi = new double[3 * H], dGh = new double[3 * H];
                        for (int j = 0; j < H; j++)
                        {
                            double dhT = dAbove[(((t * B) + b) * D * H) + (d * H) + j] + dh[(b * H) + j]; // dh_t = dy_t + dh from t+1
                            double r = act[a0 + j], z = act[a0 + H + j], n = act[a0 + (2 * H) + j];
                            double dN = dhT * (1 - z) * (1 - (n * n));                      // dpre_n = dh·(1 − z)·(1 − n²)
                            dGi[H + j] = dGh[H + j] = dhT * (hPrev(j) - n) * z * (1 - z);   // dpre_z = dh·(h' − n)·z(1 − z)
                            dGi[(2 * H) + j] = dN;                                          // gi_n enters n directly
                            dGh[(2 * H) + j] = o.LinearBeforeReset ? dN * r : dN;           // gh_n: through r ⊙ q, or q itself
                            if (o.LinearBeforeReset)
                            {
                                dGi[j] = dGh[j] = dN * kept[k0 + j] * r * (1 - r);          // dpre_r = dpre_n·q·r(1 − r)
                            }
                            dhPrev[(b * H) + j] += dhT * z;                                 // dh' = dh·z + …
                        }
                        if (!o.LinearBeforeReset)
                        {
                            for (int k = 0; k < H; k++)
                            {
                                double dRh = 0;                                             // d(r ⊙ h') = W_hnᵀ·dpre_n
                                for (int j = 0; j < H; j++) dRh += dGh[(2 * H) + j] * whh[(((2 * H) + j) * H) + k];
                                double r = act[a0 + k];
                                dGi[k] = dGh[k] = dRh * hPrev(k) * r * (1 - r);             // dpre_r = d(r ⊙ h')·h'·r(1 − r)
                                dhPrev[(b * H) + k] += dRh * r;                             // dh' += d(r ⊙ h')·r
                            }
                        }
                        for (int r = 0; r < 3 * H; r++)
                        {
                            dBih[r] += dGi[r];                                              // db_ih += dgi
                            dBhh[r] += dGh[r];                                              // db_hh += dgh
                            for (int k = 0; k < inSize; k++)
                            {
                                dWih[(r * inSize) + k] += dGi[r] * input[(((t * B) + b) * inSize) + k]; // dW_ih += dgi·xᵀ
                                dIn[(((t * B) + b) * inSize) + k] += dGi[r] * wih[(r * inSize) + k];    // dx += W_ihᵀ·dgi
                            }
                            bool candidateOfReset = !o.LinearBeforeReset && r >= 2 * H;     // W_hn multiplied r ⊙ h'
                            for (int k = 0; k < H; k++)
                            {
                                dWhh[(r * H) + k] += dGh[r] * (candidateOfReset ? kept[k0 + k] : hPrev(k)); // dW_hh += dgh·(h' | r⊙h')ᵀ
                                if (!candidateOfReset)
                                {
                                    dhPrev[(b * H) + k] += dGh[r] * whh[(r * H) + k];       // dh' += W_hhᵀ·dgh
                                }
                            }
                        }
                    }
                    dh = dhPrev;
                }
                dh.CopyTo(grads.DH0, slot * B * H);
            }
            dAbove = dIn;
        }
        grads.DX = o.BatchFirst ? SwapTB(dAbove, T, B, o.InputSize) : dAbove;
        return grads;
    }

    private static double Dot(double[] w, int offset, double[] v)
    {
        double sum = 0;
        for (int k = 0; k < v.Length; k++) sum += w[offset + k] * v[k];
        return sum;
    }
}
