namespace Lstm.Core.Reference;

public sealed partial class ReferenceNetwork
{
    // LSTM with projections (PyTorch's proj_size P): h = W_hr·(o·tanh(c)) is P wide, c is H wide, W_hh is [4H, P].
    private ReferenceTrace ForwardProjected(double[] x, int T, int B, double[]? h0, double[]? c0, int[] lengths)
    {
        RecurrentOptions o = Options;
        int L = o.Layers, D = o.Directions, H = o.HiddenSize, P = o.ProjectionSize, G = o.Gates;
        var tr = new ReferenceTrace(T, B)
        {
            H0 = h0 ?? new double[D * L * B * P],
            C0 = c0 ?? new double[D * L * B * H],
            LayerInputs = new double[L][],
            LayerOutputs = new double[L][],
            Act = new double[L * D][],
            C = new double[L * D][],
            Raw = new double[L * D][],
            Hn = new double[D * L * B * P],
            Cn = new double[D * L * B * H],
            Lengths = (int[])lengths.Clone(),
        };
        double[] input = o.BatchFirst ? SwapTB(x, B, T, o.InputSize) : (double[])x.Clone();
        for (int l = 0; l < L; l++)
        {
            int inSize = o.LayerInputSize(l);
            double[] y = new double[T * B * D * P];
            tr.LayerInputs[l] = input;
            tr.LayerOutputs[l] = y;
            for (int d = 0; d < D; d++)
            {
                int slot = (l * D) + d;
                double[] wih = P_(ParameterRole.WeightIh, l, d), whh = P_(ParameterRole.WeightHh, l, d), whr = P_(ParameterRole.Projection, l, d);
                double[] bih = o.Bias ? P_(ParameterRole.BiasIh, l, d) : new double[G * H], bhh = o.Bias ? P_(ParameterRole.BiasHh, l, d) : new double[G * H];
                double[] act = new double[T * B * G * H], cAll = new double[T * B * H], raw = new double[T * B * H];
                tr.Act[slot] = act;
                tr.C[slot] = cAll;
                tr.Raw[slot] = raw;
                double[] hPrev = tr.H0.AsSpan(slot * B * P, B * P).ToArray();
                double[] cPrev = tr.C0.AsSpan(slot * B * H, B * H).ToArray();
                for (int s = 0; s < T; s++)
                {
                    for (int b = 0; b < B; b++)
                    {
                        if (s >= lengths[b]) continue;                                                        // past this row's length
                        int t = d == 0 ? s : lengths[b] - 1 - s;                                              // reverse: from its last valid step
                        double[] pre = new double[G * H];
                        for (int r = 0; r < G * H; r++)
                        {
                            double sum = bih[r] + bhh[r];                                                     // pre = W_ih·x + b_ih + W_hh·h' + b_hh
                            for (int k = 0; k < inSize; k++) sum += wih[(r * inSize) + k] * input[(((t * B) + b) * inSize) + k];
                            for (int k = 0; k < P; k++) sum += whh[(r * P) + k] * hPrev[(b * P) + k];
                            pre[r] = sum;
                        }
                        int a0 = ((t * B) + b) * G * H;
                        for (int j = 0; j < H; j++)
                        {
                            double cp = cPrev[(b * H) + j];
                            double i = Sigmoid(pre[j]), f = o.ForgetGate ? Sigmoid(pre[H + j]) : 1, g = Math.Tanh(pre[(2 * H) + j]);
                            double c = (f * cp) + (i * g);                                                    // c = f·c' + i·g
                            double og = Sigmoid(pre[(3 * H) + j]);
                            raw[(((t * B) + b) * H) + j] = og * Math.Tanh(c);                                 // r = o·tanh(c)
                            act[a0 + j] = i; act[a0 + H + j] = f; act[a0 + (2 * H) + j] = g; act[a0 + (3 * H) + j] = og;
                            cAll[(((t * B) + b) * H) + j] = c;
                        }
                        for (int q = 0; q < P; q++)
                        {
                            double sum = 0;                                                                   // h = W_hr·r
                            for (int j = 0; j < H; j++) sum += whr[(q * H) + j] * raw[(((t * B) + b) * H) + j];
                            y[(((t * B) + b) * D * P) + (d * P) + q] = sum;
                        }
                    }
                    for (int b = 0; b < B; b++)
                    {
                        if (s >= lengths[b]) continue;
                        int t = d == 0 ? s : lengths[b] - 1 - s;
                        Array.Copy(y, (((t * B) + b) * D * P) + (d * P), hPrev, b * P, P);
                        Array.Copy(cAll, ((t * B) + b) * H, cPrev, b * H, H);
                    }
                }
                hPrev.CopyTo(tr.Hn, slot * B * P);
                cPrev.CopyTo(tr.Cn, slot * B * H);
            }
            input = y;
        }
        tr.Output = o.BatchFirst ? SwapTB(input, T, B, o.OutputSize) : input;
        return tr;
    }

    private ReferenceGradients BackwardProjected(ReferenceTrace trace, double[] dy, double[]? dhn, double[]? dcn)
    {
        RecurrentOptions o = Options;
        int L = o.Layers, D = o.Directions, H = o.HiddenSize, P = o.ProjectionSize, G = o.Gates, B = trace.Batch, T = trace.Steps;
        var grads = new ReferenceGradients { DH0 = new double[D * L * B * P], DC0 = new double[D * L * B * H] };
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
                double[] wih = P_(ParameterRole.WeightIh, l, d), whh = P_(ParameterRole.WeightHh, l, d), whr = P_(ParameterRole.Projection, l, d);
                double[] dWih = grads.Parameters[name(ParameterRole.WeightIh)], dWhh = grads.Parameters[name(ParameterRole.WeightHh)];
                double[] dWhr = grads.Parameters[name(ParameterRole.Projection)];
                double[] dBih = o.Bias ? grads.Parameters[name(ParameterRole.BiasIh)] : new double[G * H];
                double[] dBhh = o.Bias ? grads.Parameters[name(ParameterRole.BiasHh)] : new double[G * H];
                double[] act = trace.Act[slot], cAll = trace.C[slot], raw = trace.Raw[slot];
                double[] dh = dhn is null ? new double[B * P] : dhn.AsSpan(slot * B * P, B * P).ToArray();
                double[] dc = dcn is null ? new double[B * H] : dcn.AsSpan(slot * B * H, B * H).ToArray();
                for (int s = T - 1; s >= 0; s--)
                {
                    double[] dhPrev = new double[B * P];
                    for (int b = 0; b < B; b++)
                    {
                        if (s >= trace.Lengths[b])
                        {
                            Array.Copy(dh, b * P, dhPrev, b * P, P); // not yet at this row's last valid step: dhn waits
                            continue;
                        }
                        int t = d == 0 ? s : trace.Lengths[b] - 1 - s, tPrev = d == 0 ? t - 1 : t + 1;
                        double hPrev(int k) => s == 0 ? trace.H0[(slot * B * P) + (b * P) + k] : y[(((tPrev * B) + b) * D * P) + (d * P) + k];
                        double cPrev(int k) => s == 0 ? trace.C0[(slot * B * H) + (b * H) + k] : cAll[(((tPrev * B) + b) * H) + k];
                        int a0 = ((t * B) + b) * G * H, r0 = ((t * B) + b) * H;
                        double[] dhT = new double[P], dRaw = new double[H], dPre = new double[G * H];
                        for (int q = 0; q < P; q++)
                        {
                            dhT[q] = dAbove[(((t * B) + b) * D * P) + (d * P) + q] + dh[(b * P) + q];    // dh_t = dy_t + dh from t+1
                            for (int j = 0; j < H; j++)
                            {
                                dWhr[(q * H) + j] += dhT[q] * raw[r0 + j];                               // dW_hr += dh·rᵀ
                                dRaw[j] += whr[(q * H) + j] * dhT[q];                                    // dr = W_hrᵀ·dh
                            }
                        }
                        for (int j = 0; j < H; j++)
                        {
                            double i = act[a0 + j], f = act[a0 + H + j], g = act[a0 + (2 * H) + j], og = act[a0 + (3 * H) + j];
                            double c = cAll[r0 + j], cp = cPrev(j), tc = Math.Tanh(c);
                            double dOg = dRaw[j] * tc * og * (1 - og);                                   // dpre_o = dr·tanh(c)·o(1-o)
                            double dcT = dc[(b * H) + j] + (dRaw[j] * og * (1 - (tc * tc)));             // dc = dc' + dr·o·(1 - tanh²c)
                            dPre[j] = dcT * g * i * (1 - i);                                             // dpre_i
                            dPre[H + j] = o.ForgetGate ? dcT * cp * f * (1 - f) : 0;                     // dpre_f
                            dPre[(2 * H) + j] = dcT * i * (1 - (g * g));                                 // dpre_g
                            dPre[(3 * H) + j] = dOg;
                            dc[(b * H) + j] = dcT * f;                                                   // dc_{t-1} = dc·f
                        }
                        for (int r = 0; r < G * H; r++)
                        {
                            dBih[r] += dPre[r];
                            dBhh[r] += dPre[r];
                            for (int k = 0; k < inSize; k++)
                            {
                                dWih[(r * inSize) + k] += dPre[r] * input[(((t * B) + b) * inSize) + k]; // dW_ih += dpre·xᵀ
                                dIn[(((t * B) + b) * inSize) + k] += dPre[r] * wih[(r * inSize) + k];    // dx += W_ihᵀ·dpre
                            }
                            for (int k = 0; k < P; k++)
                            {
                                dWhh[(r * P) + k] += dPre[r] * hPrev(k);                                  // dW_hh += dpre·h'ᵀ
                                dhPrev[(b * P) + k] += dPre[r] * whh[(r * P) + k];                        // dh' = W_hhᵀ·dpre
                            }
                        }
                    }
                    dh = dhPrev;
                }
                dh.CopyTo(grads.DH0, slot * B * P);
                dc.CopyTo(grads.DC0, slot * B * H);
            }
            dAbove = dIn;
        }
        grads.DX = o.BatchFirst ? SwapTB(dAbove, T, B, o.InputSize) : dAbove;
        return grads;
    }

    private double[] P_(ParameterRole role, int layer, int dir) => P(role, layer, dir);
}
