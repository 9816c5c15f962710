using System.CommandLine;
using Lstm.Experiments;
using Lstm.Experiments.CharModel;
using Lstm.Core.Reference;
using Lstm.Simd;
using Spectre.Console;

namespace Lstm.Cli;

/// <summary>`lstm verify`: the kernel paths of this CPU against the scalar twin and the double oracle, and a gradient check.</summary>
public static class VerifyCommand
{
    public static Command Create()
    {
        var stride = new Option<int>("--stride") { Description = "Check every N-th float in [-20, 20] (1: all 2.2e9, several minutes).", DefaultValueFactory = _ => 64 };
        var command = new Command("verify", "Check every kernel path on this CPU; exit 1 if any bound is broken.") { stride };
        command.SetAction(parse =>
        {
            int s = parse.GetValue(stride);
            if (s <= 0)
            {
                return Usage.Fail("--stride must be ≥ 1.");
            }
            AnsiConsole.MarkupLineInterpolated($"kernel paths on this CPU: [bold]{string.Join(", ", SimdPaths.Available.Select(SimdPaths.Name))}[/] (default {SimdPaths.Name(SimdPaths.Default)}; force one with {SimdPaths.EnvironmentVariable})");
            var lines = new List<VerificationLine>();
            lines.AddRange(KernelVerifier.PathsAgainstScalar());
            lines.AddRange(KernelVerifier.Activations((uint)s));
            lines.Add(KernelVerifier.GradientCheck());
            var table = new Table().Border(TableBorder.Rounded).AddColumns("check", "worst", "bound", "");
            foreach (VerificationLine l in lines)
            {
                table.AddRow(Markup.Escape(l.Check), $"{l.Worst:G4} {l.Unit}", $"{l.Bound:G4}", l.Passed ? "[green]ok[/]" : "[red]FAIL[/]");
            }
            AnsiConsole.Write(table);
            bool ok = lines.All(l => l.Passed);
            AnsiConsole.MarkupLine(ok ? "[green]all bounds hold[/]" : "[red]a bound is broken[/]");
            return ok ? 0 : 1;
        });
        return command;
    }
}
