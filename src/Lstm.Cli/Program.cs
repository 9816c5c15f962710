using System.CommandLine;
using Lstm.Cli;

RootCommand root = new("lstm: train, sample, verify and benchmark LSTM networks built on Lstm.Core.");
root.Subcommands.Add(TrainCommand.Create());
root.Subcommands.Add(SampleCommand.Create());
root.Subcommands.Add(RunCommand.Create());
root.Subcommands.Add(ConvertCommand.Create());
root.Subcommands.Add(ExperimentCommand.Create());
root.Subcommands.Add(VerifyCommand.Create());
root.Subcommands.Add(BenchCommand.Create());
return root.Parse(args).Invoke();
