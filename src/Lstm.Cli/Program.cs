using System.CommandLine;
using Lstm.Cli;

RootCommand root = new("lstm: train, sample, verify and benchmark LSTM networks built on Lstm.Core.");
root.Subcommands.Add(TrainCommand.Create());
root.Subcommands.Add(SampleCommand.Create());
root.Subcommands.Add(RunCommand.Create());
root.Subcommands.Add(ConvertCommand.Create());
root.Subcommands.Add(ExportCommand.Create());
root.Subcommands.Add(ExperimentCommand.Create());
root.Subcommands.Add(VerifyCommand.Create());
root.Subcommands.Add(BenchCommand.Create());
try
{
    // The default handler prints a stack trace; a file or an argument the user got wrong deserves one line.
    ParseResult parsed = root.Parse(args);
    int code = parsed.Invoke(new InvocationConfiguration { EnableDefaultExceptionHandler = false });
    return parsed.Errors.Count > 0 ? Usage.BadInput : code; // the parser printed what it could not read and the usage
}
catch (Exception e) when (Usage.IsExpected(e))
{
    return Usage.Fail(e.Message);
}
