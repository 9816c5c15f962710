using System.CommandLine;
using Lstm.Core;
using Lstm.Core.Interop;
using Spectre.Console;

namespace Lstm.Cli;

/// <summary>`lstm convert`: a PyTorch LSTM's weights into a smaller inference file (fp16, bf16 or int8 weights).</summary>
public static class ConvertCommand
{
    public static Command Create()
    {
        var weights = new Option<FileInfo>("--weights") { Description = "state_dict as .safetensors or .npz (numpy.savez of the tensors).", Required = true };
        var format = WeightFormats.Option("Store W_ih and W_hh in this format.");
        format.Required = true;
        var output = new Option<FileInfo>("--out") { Description = "The .safetensors file to write (I8 + F32 row scales, F16 or BF16 weights; the rest F32).", Required = true };
        var command = new Command("convert", "Write a PyTorch LSTM's weights in a smaller inference format, for `lstm run` or PyTorchImport.Load.") { weights, format, output };
        command.SetAction(parse =>
        {
            try
            {
                ImportedNetwork imported = PyTorchImport.Load(parse.GetValue(weights)!.FullName);
                RecurrentNetwork net = imported.Network.WithWeightFormat(WeightFormats.Parse(parse.GetValue(format))!.Value);
                FileInfo target = parse.GetValue(output)!;
                PyTorchImport.Export(net, target.FullName, imported.Prefix);
                long before = parse.GetValue(weights)!.Length, after = new FileInfo(target.FullName).Length;
                AnsiConsole.MarkupLineInterpolated($"{WeightFormats.Name(net.WeightFormat)} weights → {target.FullName}: {after:N0} bytes ({(double)after / before:P0} of {before:N0})");
                return 0;
            }
            catch (Exception e) when (e is InvalidDataException or IOException or ArgumentException or NotSupportedException or UnauthorizedAccessException)
            {
                AnsiConsole.MarkupLineInterpolated($"[red]error:[/] {e.Message}");
                return 2;
            }
        });
        return command;
    }
}
