namespace Lstm.Core;

/// <summary>
/// Writes a file so that nothing a user saved is lost: to a temporary name in the same directory, flushed to disk,
/// then renamed over the target. A crash mid-write leaves the previous file intact (and a temporary file, which the
/// next successful save of the same file removes).
/// </summary>
internal static class AtomicFile
{
    /// <summary>
    /// Test hook, for the kill-mid-save test only: when this environment variable holds a number of milliseconds, every
    /// save prints "test hook: paused before rename of TEMP" to standard error once its temporary file is written and
    /// flushed, then sleeps that long before the rename, so that a test can kill the process exactly mid-save.
    /// </summary>
    internal const string PauseBeforeRenameVariable = "LSTM_TEST_PAUSE_BEFORE_RENAME_MS";

    private static readonly int PauseBeforeRenameMs =
        int.TryParse(Environment.GetEnvironmentVariable(PauseBeforeRenameVariable), out int ms) && ms > 0 ? ms : 0;

    // Two saves of one file at once, from two threads or two processes, must not share a temporary file.
    private static long saves;

    public static void Write(string path, Action<Stream> write)
    {
        ArgumentNullException.ThrowIfNull(path);
        string full = Path.GetFullPath(path);
        string temp = Path.Combine(Path.GetDirectoryName(full)!,
            $".{Path.GetFileName(full)}.tmp-{Environment.ProcessId}-{Interlocked.Increment(ref saves)}");
        try
        {
            using (var s = new FileStream(temp, FileMode.Create, FileAccess.Write, FileShare.None))
            {
                write(s);
                s.Flush(flushToDisk: true);
            }
            if (PauseBeforeRenameMs > 0)
            {
                Console.Error.WriteLine($"test hook: paused before rename of {temp}");
                Thread.Sleep(PauseBeforeRenameMs);
            }
            File.Move(temp, full, overwrite: true);
        }
        catch
        {
            File.Delete(temp);
            throw;
        }
        RemoveStale(full);
    }

    // A process killed mid-write leaves its ".NAME.tmp-PID-N" behind; once a later save has succeeded, those of processes
    // no longer running are only litter. A PID that is running again (reused) keeps its file: never delete by guess.
    private static void RemoveStale(string full)
    {
        string dir = Path.GetDirectoryName(full)!, prefix = "." + Path.GetFileName(full) + ".tmp-";
        foreach (string stale in Directory.EnumerateFiles(dir, prefix + "*"))
        {
            ReadOnlySpan<char> suffix = Path.GetFileName(stale).AsSpan(prefix.Length);
            int dash = suffix.IndexOf('-');
            if (int.TryParse(dash < 0 ? suffix : suffix[..dash], out int pid) && pid != Environment.ProcessId && !IsRunning(pid))
            {
                try
                {
                    File.Delete(stale);
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                {
                    // Another process may be removing it too; it is litter either way.
                }
            }
        }
    }

    private static bool IsRunning(int pid)
    {
        try
        {
            using var p = System.Diagnostics.Process.GetProcessById(pid);
            return !p.HasExited;
        }
        catch (Exception e) when (e is ArgumentException or InvalidOperationException)
        {
            return false;
        }
    }
}
