using System.CommandLine;
using Lstm.Experiments;
using Lstm.Experiments.CharModel;
using Lstm.Core.Training;

namespace Lstm.Cli;

/// <summary>`lstm sample`: text from a trained checkpoint.</summary>
public static class SampleCommand
{
    public static Command Create()
    {
        var model = new Option<FileInfo>("--model") { Description = "Checkpoint written by `lstm train`.", Required = true };
        var prime = new Option<string>("--prime") { Description = "Text to start from.", DefaultValueFactory = _ => "The " };
        var temperature = new Option<double>("--temperature") { Description = "Softmax temperature: lower is more conservative (near 0: always the likeliest character).", DefaultValueFactory = _ => 0.8 };
        var length = new Option<int>("--length") { Description = "Characters to generate.", DefaultValueFactory = _ => 400 };
        var seed = new Option<int>("--seed") { Description = "Sampling seed.", DefaultValueFactory = _ => 1 };
        var command = new Command("sample", "Generate text from a trained model.") { model, prime, temperature, length, seed };
        command.SetAction(parse =>
        {
            double t = parse.GetValue(temperature);
            Usage.Require(parse.GetValue(length) >= 0, "--length must be ≥ 0.");
            Usage.Require(t > 0 && double.IsFinite(t), $"--temperature must be finite and > 0; it is {t}.");
            string path = Usage.ReadableFile(parse.GetValue(model)!, "--model");
            CharLanguageModel m = CharTrainer.LoadModel(path);
            try
            {
                Console.WriteLine(m.Sample(parse.GetValue(prime)!, parse.GetValue(length), t, new SeededRandom(parse.GetValue(seed))));
            }
            catch (InvalidOperationException e)
            {
                return Usage.Fail($"--model {parse.GetValue(model)}: {e.Message}");
            }
            return 0;
        });
        return command;
    }
}
