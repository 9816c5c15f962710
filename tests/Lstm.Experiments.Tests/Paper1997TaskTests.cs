namespace Lstm.Experiments.Tests;

/// <summary>The 1997 paper's task generators and success rules, checked against the paper's definitions.</summary>
public class Paper1997TaskTests
{
    // The Reber graph as the paper draws it: from each node, the symbols that may follow.
    private static readonly Dictionary<char, int>[] ReberEdges =
    [
        new() { ['T'] = 1, ['P'] = 2 },          // after B
        new() { ['S'] = 1, ['X'] = 3 },
        new() { ['T'] = 2, ['V'] = 4 },
        new() { ['X'] = 2, ['S'] = 5 },
        new() { ['P'] = 3, ['V'] = 5 },
    ];

    [Fact]
    public void EmbeddedReber_StringsFollowTheGrammar_AndTheLegalSetsAdmitEveryNextSymbol()
    {
        var random = new SeededRandom(11);
        var seenOuter = new HashSet<char>();
        for (int n = 0; n < 500; n++)
        {
            string s = EmbeddedReber.Generate(random);
            Assert.Equal('B', s[0]);
            Assert.Contains(s[1], "TP");
            Assert.Equal(s[1], s[^2]); // the embedded string's point: the second symbol comes back before the end
            Assert.Equal('E', s[^1]);
            seenOuter.Add(s[1]);
            string inner = s[2..^2];
            Assert.Equal('B', inner[0]);
            Assert.Equal('E', inner[^1]);
            int node = 0;
            foreach (char c in inner[1..^1])
            {
                Assert.True(node < 5 && ReberEdges[node].TryGetValue(c, out node), $"'{c}' cannot follow node {node} in {s}");
            }
            Assert.Equal(5, node); // only the last node may emit E

            bool[][] legal = EmbeddedReber.LegalNext(s);
            for (int i = 0; i < s.Length - 1; i++)
            {
                Assert.True(legal[i][EmbeddedReber.Symbols.IndexOf(s[i + 1])], $"{s}: '{s[i + 1]}' after position {i} is marked illegal");
            }
            Assert.Equal([false, true, true, false, false, false, false], legal[0]); // after B: T or P
            Assert.Single(legal[s.Length - 3], v => v);                             // after the inner E: only the outer symbol
        }
        Assert.Equal(2, seenOuter.Count);
    }

    [Fact]
    public void EmbeddedReber_ToSequence_IsOneHotInputsAndNextSymbolTargets()
    {
        const string s = "BTBTSSXSETE";
        TaskSequence q = EmbeddedReber.ToSequence(s);
        int v = EmbeddedReber.Symbols.Length;
        Assert.Equal(s.Length - 1, q.Steps);
        for (int t = 0; t < q.Steps; t++)
        {
            Assert.Equal(1f, q.Inputs.AsSpan(t * v, v).ToArray().Sum());
            Assert.Equal(1f, q.Inputs[(t * v) + EmbeddedReber.Symbols.IndexOf(s[t])]);
            Assert.Equal(EmbeddedReber.Symbols.IndexOf(s[t + 1]), q.ClassTargets[t]);
        }
    }

    [Theory]
    [InlineData(6)]
    [InlineData(10)]
    [InlineData(100)]
    public void AddingProblem_MarksTwoValues_InThePapersRanges_AndTargetsTheirScaledSum(int minLength)
    {
        var random = new SeededRandom(5);
        for (int n = 0; n < 500; n++)
        {
            TaskSequence q = AddingProblem.Generate(minLength, random);
            int t = q.Steps;
            Assert.InRange(t, minLength, minLength + (minLength / 10));
            var marked = Enumerable.Range(0, t).Where(i => q.Inputs[(i * 2) + 1] == 1).ToArray();
            Assert.Equal(2, marked.Length);
            Assert.True(marked[0] < 10, "the first marked value is among the first 10");
            Assert.True(marked.Min() < (minLength / 2) - 1 || minLength < 4, "the second is in the first half");
            for (int i = 0; i < t; i++)
            {
                Assert.InRange(q.Inputs[i * 2], -1f, 1f);
                float marker = q.Inputs[(i * 2) + 1];
                float expected = marked.Contains(i) ? 1 : (i == 0 || i == t - 1) ? -1 : 0;
                Assert.Equal(expected, marker);
            }
            float sum = q.Inputs[marked[0] * 2] + q.Inputs[marked[1] * 2];
            Assert.Equal(0.5f + (sum / 4), q.RegressionTarget[0]);
            Assert.InRange(q.RegressionTarget[0], 0f, 1f);
        }
    }

    [Fact]
    public void AddingProblem_RefusesLengthsWithNoRoomForTwoMarks() =>
        Assert.Throws<ArgumentOutOfRangeException>(() => AddingProblem.Generate(5, new SeededRandom(1))); // used to loop for ever at 2 and 4

    [Fact]
    public void TemporalOrder_PlacesXOrYInTheTwoWindows_AndTheClassEncodesTheirOrder()
    {
        var random = new SeededRandom(9);
        var classes = new HashSet<int>();
        string symbols = TemporalOrder.Symbols;
        for (int n = 0; n < 400; n++)
        {
            TaskSequence q = TemporalOrder.Generate(random);
            int t = q.Steps, v = symbols.Length;
            Assert.InRange(t, 100, 110);
            char At(int i) => symbols[Array.IndexOf(q.Inputs, 1f, i * v, v) - (i * v)];
            Assert.Equal('E', At(0));
            Assert.Equal('B', At(t - 1));
            var xy = Enumerable.Range(0, t).Where(i => At(i) is 'X' or 'Y').ToArray();
            Assert.Equal(2, xy.Length);
            Assert.InRange(xy[0], 10, 20);
            Assert.InRange(xy[1], 50, 60);
            int expected = ((At(xy[0]) == 'Y' ? 1 : 0) * 2) + (At(xy[1]) == 'Y' ? 1 : 0);
            Assert.Equal(expected, q.ClassTargets[t - 1]);
            Assert.All(q.ClassTargets[..^1], c => Assert.Equal(Losses.Ignore, c));
            classes.Add(expected);
        }
        Assert.Equal(4, classes.Count);
    }

    [Fact]
    public void ReberSuccessRule_RequiresEveryLegalSymbolAboveEveryIllegalOne()
    {
        // A one-unit network whose head ignores it: the outputs are the head's bias at every step, so the rule holds
        // exactly when the bias ranks the legal symbols of every step above the illegal ones.
        TaskSequence q = EmbeddedReber.ToSequence("BTBTXSETE");
        RecurrentNetwork net = RecurrentNetwork.Create(new RecurrentOptions(EmbeddedReber.Symbols.Length, 1), seed: 1);
        var head = new Dense(1, EmbeddedReber.Symbols.Length, new SeededRandom(1));
        Array.Clear(head.Weight);
        head.Bias.AsSpan().Fill(1f);
        head.Update();
        Assert.False(ExperimentRunner.PredictsAllLegal(net, head, q)); // ties: a legal symbol does not beat an illegal one
        Assert.True(q.Legal.All(step => step.Any(l => l)));

        // A single step whose legal set the bias ranks first passes; one illegal symbol above a legal one fails.
        var oneStep = new TaskSequence(q.Inputs[..EmbeddedReber.Symbols.Length], 1, q.ClassTargets[..1], [], q.Legal[..1]);
        for (int c = 0; c < head.Bias.Length; c++) head.Bias[c] = q.Legal[0][c] ? 2f : 0f;
        head.Update();
        Assert.True(ExperimentRunner.PredictsAllLegal(net, head, oneStep));
        head.Bias[Array.IndexOf(q.Legal[0], false)] = 3f;
        head.Update();
        Assert.False(ExperimentRunner.PredictsAllLegal(net, head, oneStep));
    }
}
