using System.CommandLine;
using Lstm.Core.Training;
using Spectre.Console;

namespace Lstm.Cli;

/// <summary>`lstm sample`: text from a trained checkpoint.</summary>
public static class SampleCommand
{
    public static Command Create()
    {
        var model = new Option<FileInfo>("--model") { Description = "Checkpoint written by `lstm train`.", Required = true };
        var prime = new Option<string>("--prime") { Description = "Text to start from.", DefaultValueFactory = _ => "The " };
        var temperature = new Option<double>("--temperature") { Description = "Softmax temperature: lower is more conservative.", DefaultValueFactory = _ => 0.8 };
        var length = new Option<int>("--length") { Description = "Characters to generate.", DefaultValueFactory = _ => 400 };
        var seed = new Option<int>("--seed") { Description = "Sampling seed.", DefaultValueFactory = _ => 1 };
        var command = new Command("sample", "Generate text from a trained model.") { model, prime, temperature, length, seed };
        command.SetAction(parse =>
        {
            if (parse.GetValue(length) < 0 || !(parse.GetValue(temperature) > 0))
            {
                AnsiConsole.MarkupLine("[red]error:[/] --length must be ≥ 0 and --temperature > 0.");
                return 2;
            }
            try
            {
                CharLanguageModel m = CharTrainer.LoadModel(parse.GetValue(model)!.FullName);
                Console.WriteLine(m.Sample(parse.GetValue(prime)!, parse.GetValue(length), parse.GetValue(temperature), new SeededRandom(parse.GetValue(seed))));
                return 0;
            }
            catch (Exception e) when (e is InvalidDataException or IOException)
            {
                AnsiConsole.MarkupLineInterpolated($"[red]error:[/] {e.Message}");
                return 2;
            }
        });
        return command;
    }
}
