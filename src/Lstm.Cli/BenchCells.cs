using Lstm.Core;
using Spectre.Console;

namespace Lstm.Cli;

/// <summary>`lstm bench`'s cell rows: one step of each cell kind at the same size, against the LSTM's.</summary>
public static class BenchCells
{
    private const int H = 256;

    private static readonly (string Name, RecurrentOptions Options)[] Cells =
    [
        ("LSTM", new RecurrentOptions(H, H)),
        ("GRU (nn.GRU: r after W_hn h)", new RecurrentOptions(H, H, Cell: CellKind.Gru)),
        ("GRU (ONNX default: r before W_hn)", new RecurrentOptions(H, H, Cell: CellKind.Gru, LinearBeforeReset: false)),
        ("RNN", new RecurrentOptions(H, H, Cell: CellKind.Rnn)),
    ];

    public static Table Table(double budget, Func<Action, double, double> time)
    {
        ArgumentNullException.ThrowIfNull(time);
        var table = new Table().Border(TableBorder.Rounded).AddColumns($"step, B = 1, I = H = {H}", "µs per step", "time vs LSTM");
        double lstm = 0;
        foreach (var (name, options) in Cells)
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
