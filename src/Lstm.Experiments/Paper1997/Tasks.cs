using Lstm.Core.Training;

namespace Lstm.Experiments.Paper1997;

/// <summary>One training or test sequence: inputs [T, I], and per step either a class target or a regression target.</summary>
/// <param name="Inputs">[T, I], time-major.</param>
/// <param name="Steps">T.</param>
/// <param name="ClassTargets">[T] class per step (<see cref="Losses.Ignore"/> where none), or empty.</param>
/// <param name="RegressionTarget">The target at the last step, or empty.</param>
/// <param name="Legal">For next-symbol prediction: which symbols may legally follow at each step (empty for other tasks).</param>
public sealed record TaskSequence(float[] Inputs, int Steps, int[] ClassTargets, float[] RegressionTarget, bool[][] Legal);

/// <summary>The embedded Reber grammar (Hochreiter &amp; Schmidhuber 1997, experiment 1): 7 symbols, next-symbol prediction.</summary>
public static class EmbeddedReber
{
    public const string Symbols = "BTPSXVE";

    // Reber graph: node → (symbol, next node); node 6 emits E.
    private static readonly (char Symbol, int Next)[][] Graph =
    [
        [('B', 1)],
        [('T', 2), ('P', 3)],
        [('S', 2), ('X', 4)],
        [('T', 3), ('V', 5)],
        [('X', 3), ('S', 6)],
        [('P', 4), ('V', 6)],
        [('E', -1)],
    ];

    /// <summary>One string: B, T or P, an inner Reber string, the same T or P again, E.</summary>
    public static string Generate(SeededRandom random)
    {
        ArgumentNullException.ThrowIfNull(random);
        char outer = random.Next(2) == 0 ? 'T' : 'P';
        var sb = new System.Text.StringBuilder("B").Append(outer);
        for (int node = 0; node >= 0;)
        {
            var (symbol, next) = Graph[node][random.Next(Graph[node].Length)];
            sb.Append(symbol);
            node = next;
        }
        return sb.Append(outer).Append('E').ToString();
    }

    /// <summary>Which symbols may follow each prefix of <paramref name="s"/> (the position after the last is unused).</summary>
    public static bool[][] LegalNext(string s)
    {
        ArgumentNullException.ThrowIfNull(s);
        var legal = new bool[s.Length][];
        int node = 0;
        for (int i = 0; i < s.Length; i++)
        {
            legal[i] = new bool[Symbols.Length];
            int inner = i - 2; // position inside the inner string
            if (i == 0) Mark('T', 'P');
            else if (i == 1) Mark('B');
            else if (inner >= 0 && node >= 0)
            {
                node = inner == 0 ? 0 : node;
                var edge = Graph[node].First(e => e.Symbol == s[i]);
                node = edge.Next;
                if (node >= 0) foreach (var e in Graph[node]) Mark(e.Symbol);
                else Mark(s[1]); // after the inner E comes the outer symbol, the same as s[1]
            }
            else if (i == s.Length - 2) Mark('E');
            void Mark(params char[] cs) { foreach (char c in cs) legal[i][Symbols.IndexOf(c)] = true; }
        }
        return legal;
    }

    public static TaskSequence ToSequence(string s)
    {
        ArgumentNullException.ThrowIfNull(s);
        int v = Symbols.Length, t = s.Length - 1;
        var x = new float[t * v];
        var targets = new int[t];
        for (int i = 0; i < t; i++)
        {
            x[(i * v) + Symbols.IndexOf(s[i])] = 1;
            targets[i] = Symbols.IndexOf(s[i + 1]);
        }
        return new TaskSequence(x, t, targets, [], LegalNext(s)[..t]);
    }
}

/// <summary>The adding problem (experiment 4): pairs (value, marker); target 0.5 + (X1 + X2)/4 at the end.</summary>
public static class AddingProblem
{
    public static TaskSequence Generate(int minLength, SeededRandom random)
    {
        ArgumentNullException.ThrowIfNull(random);
        // Below 6 the second marked position (before T/2 - 1) can have no room apart from the first: no sequence exists.
        ArgumentOutOfRangeException.ThrowIfLessThan(minLength, 6);
        int t = minLength + random.Next((minLength / 10) + 1);
        var x = new float[t * 2];
        for (int i = 0; i < t; i++) x[i * 2] = (float)random.Uniform(-1, 1);
        int first = random.Next(Math.Min(10, t - 1)); // never the last pair, whose marker is the end marker -1
        int second;
        do { second = random.Next(Math.Max(1, (minLength / 2) - 1)); } while (second == first);
        x[(first * 2) + 1] = 1;
        x[(second * 2) + 1] = 1;
        x[1] = x[1] == 1 ? 1 : -1;                 // the first pair is marked -1 unless it holds X1 or X2
        if (first == 0 || second == 0) x[0] = 0;   // ... and then its value is 0
        x[((t - 1) * 2) + 1] = -1;                 // the final pair is marked -1
        float sum = 0;
        for (int i = 0; i < t; i++) if (x[(i * 2) + 1] == 1) sum += x[i * 2];
        return new TaskSequence(x, t, [], [0.5f + (sum / 4)], []);
    }
}

/// <summary>The temporal order problem (experiment 6a): classify the order of X/Y at two random positions.</summary>
public static class TemporalOrder
{
    public const string Symbols = "abcdBEXY";

    public static TaskSequence Generate(SeededRandom random)
    {
        ArgumentNullException.ThrowIfNull(random);
        int t = 100 + random.Next(11);
        var s = new char[t];
        s[0] = 'E';
        s[t - 1] = 'B';
        for (int i = 1; i < t - 1; i++) s[i] = "abcd"[random.Next(4)];
        int t1 = 10 + random.Next(11), t2 = 50 + random.Next(11);
        char a = random.Next(2) == 0 ? 'X' : 'Y', b = random.Next(2) == 0 ? 'X' : 'Y';
        s[t1] = a;
        s[t2] = b;
        var x = new float[t * Symbols.Length];
        for (int i = 0; i < t; i++) x[(i * Symbols.Length) + Symbols.IndexOf(s[i])] = 1;
        var targets = Enumerable.Repeat(Losses.Ignore, t).ToArray();
        targets[t - 1] = ((a == 'Y' ? 1 : 0) * 2) + (b == 'Y' ? 1 : 0); // XX, XY, YX, YY
        return new TaskSequence(x, t, targets, [], []);
    }
}
