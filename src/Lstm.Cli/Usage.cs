using Lstm.Core;

namespace Lstm.Cli;

/// <summary>A mistake in what the user asked for: the command prints its message as one line and exits 2.</summary>
public sealed class UsageException(string message) : Exception(message);

/// <summary>One-line errors, exit codes, and the checks every command makes before it starts working.</summary>
public static class Usage
{
    /// <summary>Bad arguments, or a file that cannot be read, written or understood.</summary>
    public const int BadInput = 2;

    /// <summary>Prints "error: MESSAGE" as one line on standard error (no stack trace) and returns <see cref="BadInput"/>.</summary>
    public static int Fail(string message)
    {
        Console.Error.WriteLine("error: " + message.ReplaceLineEndings(" "));
        return BadInput;
    }

    /// <summary>
    /// The exceptions that describe the user's input or the file system, not a bug: a command reports them as one line.
    /// Anything else keeps its stack trace.
    /// </summary>
    public static bool IsExpected(Exception e) =>
        e is UsageException or IOException or UnauthorizedAccessException or InvalidDataException or ArgumentException or NonFiniteValueException
            or NotSupportedException; // a network in a weight format asked for what needs float32 weights, or to round twice

    public static void Require(bool ok, string message)
    {
        if (!ok) throw new UsageException(message);
    }

    /// <summary>
    /// The full path of <paramref name="file"/> if it is a regular file this process can open for reading. Directories,
    /// missing files, pipes, FIFOs and devices (the readers seek) give a <see cref="UsageException"/> naming the option.
    /// </summary>
    public static string ReadableFile(FileInfo file, string option)
    {
        ArgumentNullException.ThrowIfNull(file);
        string path = file.FullName, shown = $"{option} {file}";
        Require(!Directory.Exists(path), $"{shown}: is a directory, not a file.");
        Require(File.Exists(path), $"{shown}: no such file.");
        // Look before opening: opening a FIFO that has no writer blocks for ever. A FIFO or device has no length, and
        // every format read here needs bytes, so an empty file is refused with them. A link that leads nowhere on disk
        // (/dev/stdin to "pipe:[…]") is opened: its pipe is open already, and CanSeek tells.
        FileSystemInfo target = file.LinkTarget is null ? file : file.ResolveLinkTarget(returnFinalTarget: true) ?? file;
        Require(!target.Exists || target is not FileInfo { Length: 0 }, $"{shown}: is empty, or a FIFO or device rather than a regular file.");
        try
        {
            using var s = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite, bufferSize: 1);
            Require(s.CanSeek, $"{shown}: is a pipe, FIFO or device, not a regular file; save it to a file first.");
        }
        catch (UnauthorizedAccessException)
        {
            throw new UsageException($"{shown}: permission denied.");
        }
        catch (IOException e)
        {
            throw new UsageException($"{shown}: cannot be read: {e.Message}");
        }
        return path;
    }

    /// <summary>
    /// The full path of <paramref name="path"/> if a file can be saved there: not a directory, in a directory that exists
    /// and takes new files (saves write a temporary file beside the target and rename it, so that is what is tried).
    /// </summary>
    public static string WritableFile(string path, string option)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        string full = Path.GetFullPath(path), shown = $"{option} {path}";
        Require(!Directory.Exists(full), $"{shown}: is a directory; give a file name.");
        string dir = Path.GetDirectoryName(full)!;
        Require(Directory.Exists(dir), $"{shown}: the directory {dir} does not exist.");
        Probe(dir, shown);
        return full;
    }

    /// <summary>Creates <paramref name="dir"/> if needed and checks that files can be written in it.</summary>
    public static string WritableDirectory(DirectoryInfo dir, string option)
    {
        ArgumentNullException.ThrowIfNull(dir);
        string shown = $"{option} {dir}";
        Require(!File.Exists(dir.FullName), $"{shown}: is a file, not a directory.");
        try
        {
            Directory.CreateDirectory(dir.FullName);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new UsageException($"{shown}: cannot create the directory: {e.Message}");
        }
        Probe(dir.FullName, shown);
        return dir.FullName;
    }

    private static void Probe(string dir, string shown)
    {
        string probe = Path.Combine(dir, $".lstm-write-probe-{Environment.ProcessId}-{Guid.NewGuid():N}");
        try
        {
            using (new FileStream(probe, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1, FileOptions.DeleteOnClose))
            {
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            string why = e switch
            {
                UnauthorizedAccessException => "permission denied",
                FileNotFoundException or DirectoryNotFoundException => "the file system there takes no new files",
                _ => e.Message,
            };
            throw new UsageException($"{shown}: cannot create files in {dir} ({why}).");
        }
    }
}
