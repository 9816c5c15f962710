namespace Lstm.Cli;

/// <summary>
/// The loss curve as a PNG, with ScottPlot, which draws with SkiaSharp: a native library (libSkiaSharp) that a NativeAOT
/// build does not link in but loads from beside the binary. <see cref="Unavailable"/> finds out at start-up.
/// </summary>
public static class LossPlot
{
    /// <summary>The <c>--plot</c> value that turns plotting off.</summary>
    public const string None = "none";

    /// <summary>Null if a plot can be drawn here; otherwise why not (a native library that does not load).</summary>
    public static string? Unavailable()
    {
        try
        {
            // Draw a small plot with text, in memory: this loads the native library and renders glyphs, as Save will.
            var plot = new ScottPlot.Plot();
            plot.Add.ScatterLine(new double[] { 0, 1 }, new double[] { 1, 0 });
            plot.Title("probe");
            _ = plot.GetImageBytes(64, 48, ScottPlot.ImageFormat.Png);
            return null;
        }
        catch (Exception e) when (e is DllNotFoundException or TypeInitializationException or EntryPointNotFoundException or BadImageFormatException)
        {
            Exception root = e;
            while (root.InnerException is not null) root = root.InnerException;
            // The loader's message goes on to list every path it tried; its first sentence says what failed.
            string message = root.Message.ReplaceLineEndings(" ");
            int end = message.IndexOf(". ", StringComparison.Ordinal);
            return end < 0 ? message.TrimEnd('.') : message[..end];
        }
    }

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
        // A temporary name of this process's own beside the target, renamed over it: never a half-written PNG.
        string temp = Path.Combine(Path.GetDirectoryName(Path.GetFullPath(path))!, $".{Path.GetFileName(path)}.tmp-{Environment.ProcessId}.png");
        try
        {
            plot.SavePng(temp, 900, 500);
            File.Move(temp, path, overwrite: true);
        }
        finally
        {
            File.Delete(temp);
        }
    }
}
