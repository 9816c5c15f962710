namespace Lstm.Cli;

/// <summary>The loss curve as a PNG, with ScottPlot.</summary>
public static class LossPlot
{
    public static void Save(string path, IReadOnlyList<(long Step, double Loss)> points, string title)
    {
        var plot = new ScottPlot.Plot();
        double[] xs = points.Select(p => (double)p.Step).ToArray();
        double[] ys = points.Select(p => p.Loss).ToArray();
        var line = plot.Add.ScatterLine(xs, ys);
        line.LegendText = "training loss (nats per character)";
        if (ys.Length >= 20)
        {
            int w = Math.Max(5, ys.Length / 20);
            double[] smooth = ys.Select((_, i) => ys.Skip(Math.Max(0, i - w + 1)).Take(Math.Min(w, i + 1)).Average()).ToArray();
            var s = plot.Add.ScatterLine(xs, smooth);
            s.LineWidth = 3;
            s.LegendText = $"moving average of {w}";
        }
        plot.Title(title);
        plot.XLabel("step");
        plot.YLabel("loss");
        plot.ShowLegend();
        string temp = path + ".tmp.png";
        plot.SavePng(temp, 900, 500);
        File.Move(temp, path, overwrite: true);
    }
}
