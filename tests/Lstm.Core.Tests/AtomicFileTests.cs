using Lstm.Core.Training;

namespace Lstm.Core.Tests;

/// <summary>Saves go through a temporary file of their own, even when several threads save one file at once.</summary>
public sealed class AtomicFileTests : IDisposable
{
    private readonly string work = Directory.CreateTempSubdirectory("lstm-atomic-").FullName;

    public void Dispose() => Directory.Delete(work, recursive: true);

    [Fact]
    public void TwoThreadsSavingOneFile_NeverShareATemporaryFile()
    {
        // With a temporary name made of the process id alone, both threads open the same file: one fails to open it
        // (it is locked), or deletes it under the other, or renames the other's half-written bytes into place.
        string path = Path.Combine(work, "shared.ckpt");
        Checkpoint Make(int who)
        {
            var c = new Checkpoint();
            c.Metadata["writer"] = who.ToString(System.Globalization.CultureInfo.InvariantCulture);
            c.Tensors["w"] = Enumerable.Repeat((float)who, 250_000).ToArray();
            return c;
        }
        Checkpoint[] checkpoints = [Make(1), Make(2)];
        using var start = new Barrier(2);
        Exception?[] failures = new Exception?[2];
        Thread[] threads = [.. Enumerable.Range(0, 2).Select(i => new Thread(() =>
        {
            start.SignalAndWait();
            try
            {
                for (int n = 0; n < 30; n++) checkpoints[i].Save(path);
            }
            catch (Exception e)
            {
                failures[i] = e;
            }
        }))];
        foreach (Thread t in threads) t.Start();
        foreach (Thread t in threads) t.Join();

        Assert.Null(failures[0]);
        Assert.Null(failures[1]);
        Checkpoint saved = Checkpoint.Load(path);
        float writer = float.Parse(saved.Get("writer"), System.Globalization.CultureInfo.InvariantCulture);
        Assert.All(saved.Tensor("w"), v => Assert.Equal(writer, v));
        Assert.Empty(Directory.EnumerateFiles(work, ".shared.ckpt.tmp-*"));
    }
}
