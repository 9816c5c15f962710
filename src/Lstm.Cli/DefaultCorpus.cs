using Lstm.Core.Training;

namespace Lstm.Cli;

/// <summary>
/// The text `lstm train` learns when given none: written by this project, generated from a small grammar of sentences
/// about recurrent networks, so it is free of third-party text and has structure a character model can pick up
/// (words, spacing, capitals, punctuation, recurring phrases).
/// </summary>
public static class DefaultCorpus
{
    private static readonly string[] Subjects =
    [
        "the memory cell", "the forget gate", "the input gate", "the output gate", "a small network", "the hidden state",
        "the error signal", "every block", "the gradient", "the carousel", "a long sequence", "the trainer", "the next layer",
    ];

    private static readonly string[] Verbs =
    [
        "keeps", "stores", "forgets", "carries", "protects", "reads", "writes", "learns", "remembers", "passes", "scales", "opens",
    ];

    private static readonly string[] Objects =
    [
        "the state", "its value", "the signal", "a new symbol", "the old error", "what it saw", "the last input", "the marker",
        "a constant flow", "every step", "the first number", "its own weight",
    ];

    private static readonly string[] Tails =
    [
        "for a long time", "across many steps", "without decay", "until the end", "when the gate is open", "one step at a time",
        "through the night", "in the carousel", "while the others wait", "before the next symbol",
    ];

    private static readonly string[] Openers = ["", "", "", "and so ", "then ", "now ", "still, ", "in time, "];

    /// <summary>About <paramref name="characters"/> characters of paragraphs, the same for the same seed.</summary>
    public static string Generate(int characters = 200_000, int seed = 1997)
    {
        var random = new SeededRandom(seed);
        var sb = new System.Text.StringBuilder(characters + 200);
        string Pick(string[] words) => words[random.Next(words.Length)];
        while (sb.Length < characters)
        {
            int sentences = 3 + random.Next(4);
            for (int s = 0; s < sentences; s++)
            {
                string sentence = Pick(Openers) + Pick(Subjects) + " " + Pick(Verbs) + " " + Pick(Objects)
                    + (random.Next(3) == 0 ? "" : " " + Pick(Tails));
                sb.Append(char.ToUpperInvariant(sentence[0])).Append(sentence, 1, sentence.Length - 1);
                sb.Append(random.Next(6) == 0 ? "! " : ". ");
            }
            sb.Length--;
            sb.Append('\n');
        }
        return sb.ToString();
    }
}
