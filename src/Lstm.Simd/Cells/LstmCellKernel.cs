using System.Runtime.CompilerServices;
using Lstm.Simd.Activations;
using Lstm.Simd.Vectors;

namespace Lstm.Simd.Cells;

/// <summary>
/// The fused elementwise pass after the gate GEMM (oneDNN's "postgemm"), written once over <see cref="IVec{TSelf}"/>.
/// Gates are [B, 4H] rows in order i, f, g, o; all state is [B, H]. Every value is computed by the same operations
/// on every path, so results agree bitwise.
/// </summary>
internal static class LstmCellKernel
{
    public ref struct Forward
    {
        public ref float Gates;   // [B, 4H]: pre-activations in, activations i, f, g, o out
        public ref float CPrev;   // [B, H]
        public ref float C;       // [B, H]
        public ref float H;       // [B, ldh]
        public ref float Peep;    // [3H] i, f, o, or unused
        public nint Ldh;
    }

    public ref struct Backward
    {
        public ref float Gates;   // [B, 4H] activations kept by the forward pass
        public ref float CPrev;   // [B, H]
        public ref float C;       // [B, H]
        public ref float Dh;      // [B, H] gradient reaching h_t (from above and from step t+1)
        public ref float DcNext;  // [B, H] gradient reaching c_t from step t+1; may be DcPrev itself
        public ref float DGates;  // [B, 4H] out: gradient of the pre-activations
        public ref float DcPrev;  // [B, H] out
        public ref float Peep;    // [3H]
        public ref float DPeep;   // [3H] accumulated over rows
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining | MethodImplOptions.AggressiveOptimization)]
    public static nuint ForwardRow<TVec>(ref Forward a, nuint row, nuint hidden, nuint j, bool forgetGate, bool peepholes)
        where TVec : struct, IVec<TVec>
    {
        nuint w = (nuint)TVec.Count;
        nuint g0 = row * 4 * hidden;
        nuint s0 = row * hidden;
        nuint h0 = row * (nuint)a.Ldh;
        for (; j + w <= hidden; j += w)
        {
            TVec gi = TVec.Load(ref a.Gates, g0 + j);
            TVec gf = TVec.Load(ref a.Gates, g0 + hidden + j);
            TVec gg = TVec.Load(ref a.Gates, g0 + (2 * hidden) + j);
            TVec go = TVec.Load(ref a.Gates, g0 + (3 * hidden) + j);
            TVec cp = TVec.Load(ref a.CPrev, s0 + j);
            if (peepholes)
            {
                gi = TVec.Fma(TVec.Load(ref a.Peep, j), cp, gi);
                gf = TVec.Fma(TVec.Load(ref a.Peep, hidden + j), cp, gf);
            }
            TVec i = SigmoidRr2P6Div.Invoke(gi);
            TVec g = TanhRr2P6Div.Invoke(gg);
            TVec f = forgetGate ? SigmoidRr2P6Div.Invoke(gf) : TVec.Create(1f);
            TVec c = forgetGate ? TVec.Fma(f, cp, i * g) : TVec.Fma(i, g, cp); // c = f⊙c' + i⊙g  |  c' + i⊙g
            if (peepholes)
            {
                go = TVec.Fma(TVec.Load(ref a.Peep, (2 * hidden) + j), c, go);
            }
            TVec o = SigmoidRr2P6Div.Invoke(go);
            TVec h = o * TanhRr2P6Div.Invoke(c);                              // h = o⊙tanh(c)

            TVec.Store(i, ref a.Gates, g0 + j);
            TVec.Store(f, ref a.Gates, g0 + hidden + j);
            TVec.Store(g, ref a.Gates, g0 + (2 * hidden) + j);
            TVec.Store(o, ref a.Gates, g0 + (3 * hidden) + j);
            TVec.Store(c, ref a.C, s0 + j);
            TVec.Store(h, ref a.H, h0 + j);
        }
        return j;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining | MethodImplOptions.AggressiveOptimization)]
    public static nuint BackwardRow<TVec>(ref Backward a, nuint row, nuint hidden, nuint j, bool forgetGate, bool peepholes)
        where TVec : struct, IVec<TVec>
    {
        nuint w = (nuint)TVec.Count;
        nuint g0 = row * 4 * hidden;
        nuint s0 = row * hidden;
        TVec one = TVec.Create(1f);
        for (; j + w <= hidden; j += w)
        {
            TVec i = TVec.Load(ref a.Gates, g0 + j);
            TVec f = TVec.Load(ref a.Gates, g0 + hidden + j);
            TVec g = TVec.Load(ref a.Gates, g0 + (2 * hidden) + j);
            TVec o = TVec.Load(ref a.Gates, g0 + (3 * hidden) + j);
            TVec cp = TVec.Load(ref a.CPrev, s0 + j);
            TVec c = TVec.Load(ref a.C, s0 + j);
            TVec dh = TVec.Load(ref a.Dh, s0 + j);
            TVec tc = TanhRr2P6Div.Invoke(c);

            TVec dGo = dh * tc * o * (one - o);                         // do = dh⊙tanh(c); dGo = do⊙o(1-o)
            TVec dc = TVec.Fma(dh * o, one - (tc * tc), TVec.Load(ref a.DcNext, s0 + j)); // dc = dc' + dh⊙o⊙(1-tanh²c)
            if (peepholes)
            {
                dc = TVec.Fma(dGo, TVec.Load(ref a.Peep, (2 * hidden) + j), dc);     // o saw c through p_o
                TVec.Store(TVec.Fma(dGo, c, TVec.Load(ref a.DPeep, (2 * hidden) + j)), ref a.DPeep, (2 * hidden) + j);
            }
            TVec dGi = dc * g * i * (one - i);                          // di = dc⊙g; dGi = di⊙i(1-i)
            TVec dGg = dc * i * (one - (g * g));                        // dg = dc⊙i; dGg = dg⊙(1-g²)
            TVec dGf = forgetGate ? dc * cp * f * (one - f) : TVec.Create(0f); // df = dc⊙c'; dGf = df⊙f(1-f)
            TVec dcPrev = forgetGate ? dc * f : dc;                      // dc' = dc⊙f  |  dc (the carousel)
            if (peepholes)
            {
                dcPrev = TVec.Fma(dGi, TVec.Load(ref a.Peep, j), dcPrev);
                dcPrev = TVec.Fma(dGf, TVec.Load(ref a.Peep, hidden + j), dcPrev);
                TVec.Store(TVec.Fma(dGi, cp, TVec.Load(ref a.DPeep, j)), ref a.DPeep, j);
                TVec.Store(TVec.Fma(dGf, cp, TVec.Load(ref a.DPeep, hidden + j)), ref a.DPeep, hidden + j);
            }

            TVec.Store(dGi, ref a.DGates, g0 + j);
            TVec.Store(dGf, ref a.DGates, g0 + hidden + j);
            TVec.Store(dGg, ref a.DGates, g0 + (2 * hidden) + j);
            TVec.Store(dGo, ref a.DGates, g0 + (3 * hidden) + j);
            TVec.Store(dcPrev, ref a.DcPrev, s0 + j);
        }
        return j;
    }
}
