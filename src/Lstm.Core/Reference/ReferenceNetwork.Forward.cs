namespace Lstm.Core.Reference;

public sealed partial class ReferenceNetwork
{
    /// <summary>Forward over the whole sequence; <paramref name="h0"/>, <paramref name="c0"/> are [D·L, B, H] or null for zeros.</summary>
    public ReferenceTrace Forward(double[] x, int steps, int batch, double[]? h0 = null, double[]? c0 = null) =>
        Forward(x, steps, batch, h0, c0, Enumerable.Repeat(steps, Math.Max(0, batch)).ToArray());

    /// <summary>
    /// Forward over a padded batch whose row b has <paramref name="lengths"/>[b] valid steps (PyTorch's packed
    /// sequences): row b runs steps [0, length) (the reverse direction from its last valid step down), its outputs
    /// past its length are 0, and hn, cn are its state after its last valid step.
    /// </summary>
    public ReferenceTrace Forward(double[] x, int steps, int batch, double[]? h0, double[]? c0, int[] lengths)
    {
        ArgumentNullException.ThrowIfNull(x);
        ArgumentNullException.ThrowIfNull(lengths);
        RecurrentOptions o = Options;
        int L = o.Layers, D = o.Directions, H = o.HiddenSize, G = o.Gates, B = batch, T = steps;
        if (lengths.Length != B || lengths.Any(len => len < 0 || len > T))
        {
            throw new ArgumentException($"lengths must hold B = {B} values in [0, T = {T}].", nameof(lengths));
        }
        if (x.Length != T * B * o.InputSize)
        {
            throw new ArgumentException($"x has {x.Length} elements; expected {T * B * o.InputSize}.", nameof(x));
        }
        if (o.Cell == CellKind.Gru)
        {
            return ForwardGru(x, steps, batch, h0, lengths);
        }
        if (o.ProjectionSize > 0)
        {
            return ForwardProjected(x, T, B, h0, c0, lengths);
        }
        var tr = new ReferenceTrace(T, B)
        {
            H0 = h0 ?? new double[D * L * B * H],
            C0 = c0 ?? new double[D * L * B * H],
            LayerInputs = new double[L][],
            LayerOutputs = new double[L][],
            Act = new double[L * D][],
            C = new double[L * D][],
            Hn = new double[D * L * B * H],
            Cn = o.Cell == CellKind.Lstm ? new double[D * L * B * H] : [],
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
                double[] bih = o.Bias ? P(ParameterRole.BiasIh, l, d) : new double[G * H], bhh = o.Bias ? P(ParameterRole.BiasHh, l, d) : new double[G * H]; // bias=False: 0
                double[]? peep = o.Peepholes ? P(ParameterRole.Peephole, l, d) : null;
                double[] act = new double[T * B * G * H], cAll = new double[T * B * H];
                tr.Act[slot] = act;
                tr.C[slot] = cAll;
                double[] hPrev = tr.H0.AsSpan(slot * B * H, B * H).ToArray();
                double[] cPrev = tr.C0.AsSpan(slot * B * H, B * H).ToArray();
                for (int s = 0; s < T; s++)
                {
                    int Time(int b) => d == 0 ? s : lengths[b] - 1 - s; // the reverse direction starts at the row's last valid step
                    for (int b = 0; b < B; b++)
                    {
                        if (s >= lengths[b]) continue;                                                      // past this row's length
                        int t = Time(b);
                        // pre = W_ih·x_t + b_ih + W_hh·h_{t-1} + b_hh
                        double[] pre = new double[G * H];
                        for (int r = 0; r < G * H; r++)
                        {
                            double sum = bih[r] + bhh[r];
                            for (int k = 0; k < inSize; k++) sum += wih[(r * inSize) + k] * input[(((t * B) + b) * inSize) + k];
                            for (int k = 0; k < H; k++) sum += whh[(r * H) + k] * hPrev[(b * H) + k];
                            pre[r] = sum;
                        }
                        int a0 = ((t * B) + b) * G * H;
                        for (int j = 0; j < H; j++)
                        {
                            double h;
                            if (o.Cell == CellKind.Rnn)
                            {
                                h = o.Nonlinearity == RnnNonlinearity.Relu ? Relu(pre[j]) : Math.Tanh(pre[j]);     // h = tanh(pre) or max(0, pre)
                                act[a0 + j] = h;
                            }
                            else
                            {
                                double cp = cPrev[(b * H) + j];
                                double i = Sigmoid(pre[j] + (peep is null ? 0 : peep[j] * cp));             // i = σ(pre_i + p_i·c')
                                double f = o.ForgetGate ? Sigmoid(pre[H + j] + (peep is null ? 0 : peep[H + j] * cp)) : 1; // f = σ(pre_f + p_f·c')
                                double g = Math.Tanh(pre[(2 * H) + j]);                                     // g = tanh(pre_g)
                                double c = (f * cp) + (i * g);                                              // c = f·c' + i·g
                                double og = Sigmoid(pre[(3 * H) + j] + (peep is null ? 0 : peep[(2 * H) + j] * c)); // o = σ(pre_o + p_o·c)
                                h = og * Math.Tanh(c);                                                      // h = o·tanh(c)
                                act[a0 + j] = i; act[a0 + H + j] = f; act[a0 + (2 * H) + j] = g; act[a0 + (3 * H) + j] = og;
                                cAll[(((t * B) + b) * H) + j] = c;
                            }
                            y[(((t * B) + b) * D * H) + (d * H) + j] = h;
                        }
                    }
                    for (int b = 0; b < B; b++)
                    {
                        int t = Time(b);
                        for (int j = 0; j < H && s < lengths[b]; j++)
                        {
                            hPrev[(b * H) + j] = y[(((t * B) + b) * D * H) + (d * H) + j];
                            if (o.Cell == CellKind.Lstm) cPrev[(b * H) + j] = cAll[(((t * B) + b) * H) + j];
                        }
                    }
                }
                hPrev.CopyTo(tr.Hn, slot * B * H);
                if (o.Cell == CellKind.Lstm) cPrev.CopyTo(tr.Cn, slot * B * H);
            }
            input = y;
        }
        tr.Output = o.BatchFirst ? SwapTB(input, T, B, o.OutputSize) : input;
        return tr;
    }

    /// <summary>[d0, d1, F] → [d1, d0, F].</summary>
    internal static double[] SwapTB(double[] a, int d0, int d1, int f)
    {
        double[] r = new double[a.Length];
        for (int i = 0; i < d0; i++)
            for (int j = 0; j < d1; j++)
                Array.Copy(a, ((i * d1) + j) * f, r, ((j * d0) + i) * f, f);
        return r;
    }
}
