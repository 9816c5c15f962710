using Lstm.Core;
using Spectre.Console;

namespace Lstm.Cli;

/// <summary>`lstm bench`'s cell rows: one step of each cell kind at the same size, against the LSTM's.</summary>
public static class BenchCells
{
    private static (string Name, RecurrentOptions Options)[] Cells(int h) =>
    [
        ("LSTM", new RecurrentOptions(h, h)),
        ("GRU (nn.GRU: r after W_hn h)", new RecurrentOptions(h, h, Cell: CellKind.Gru)),
        ("GRU (ONNX default: r before W_hn)", new RecurrentOptions(h, h, Cell: CellKind.Gru, LinearBeforeReset: false)),
        ("RNN", new RecurrentOptions(h, h, Cell: CellKind.Rnn)),
    ];

    /// <summary>The table at I = H = 256, or at <paramref name="tinyHidden"/> (`--tiny`: only that every cell runs).</summary>
    public static Table Table(double budget, Func<Action, double, double> time, int tinyHidden = 0)
    {
        ArgumentNullException.ThrowIfNull(time);
        int H = tinyHidden > 0 ? tinyHidden : 256;
        var table = new Table().Border(TableBorder.Rounded).AddColumns($"step, B = 1, I = H = {H}", "µs per step", "time vs LSTM");
        double lstm = 0;
        foreach (var (name, options) in Cells(H))
        {
            RecurrentNetwork net = RecurrentNetwork.Create(options, 1);
            using StreamState state = net.CreateStream();
            float[] x = new float[H], y = new float[H];
            double us = time(() => net.Step(state, x, y), budget);
            lstm = lstm == 0 ? us : lstm;
            table.AddRow(name, $"{us:F2}", $"{us / lstm:F2}×");
        }
        return table;
    }
}
