using PublicApiGenerator;

namespace Lstm.Simd.Tests;

/// <summary>
/// The public API of Lstm.Simd, kept in PublicApi/Lstm.Simd.approved.txt so that every change of it shows in review.
/// On a difference the test writes Lstm.Simd.received.txt beside it: read the diff, and if the change is meant,
/// copy the received file over the approved one.
/// </summary>
public class PublicApiTests
{
    [Fact]
    public void PublicApi_MatchesTheApprovedFile()
    {
        string api = typeof(Lstm.Simd.SimdPaths).Assembly.GeneratePublicApi(new ApiGeneratorOptions { IncludeAssemblyAttributes = false }).ReplaceLineEndings("\n");
        string dir = Path.Combine(RepositoryRoot(), "tests", "Lstm.Simd.Tests", "PublicApi");
        string approved = Path.Combine(dir, "Lstm.Simd.approved.txt");
        string received = Path.Combine(dir, "Lstm.Simd.received.txt");
        if (File.Exists(approved) && File.ReadAllText(approved).ReplaceLineEndings("\n") == api)
        {
            File.Delete(received);
            return;
        }
        File.WriteAllText(received, api);
        Assert.Fail($"The public API of Lstm.Simd changed: compare {received} with {approved}, and copy it over if the change is meant.");
    }

    private static string RepositoryRoot()
    {
        for (DirectoryInfo? d = new(AppContext.BaseDirectory); d is not null; d = d.Parent)
        {
            if (File.Exists(Path.Combine(d.FullName, "Lstm.sln"))) return d.FullName;
        }
        throw new DirectoryNotFoundException("Lstm.sln not found above " + AppContext.BaseDirectory);
    }
}
