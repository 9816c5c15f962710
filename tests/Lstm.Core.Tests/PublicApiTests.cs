using PublicApiGenerator;

namespace Lstm.Core.Tests;

/// <summary>
/// The public API of Lstm.Core, kept in PublicApi/Lstm.Core.approved.txt so that every change of it shows in review.
/// On a difference the test writes Lstm.Core.received.txt beside it: read the diff, and if the change is meant,
/// copy the received file over the approved one.
/// </summary>
public class PublicApiTests
{
    [Fact]
    public void PublicApi_MatchesTheApprovedFile()
    {
        string api = typeof(Lstm.Core.RecurrentNetwork).Assembly.GeneratePublicApi(new ApiGeneratorOptions { IncludeAssemblyAttributes = false }).ReplaceLineEndings("\n");
        string dir = Path.Combine(Helpers.RepositoryRoot(), "tests", "Lstm.Core.Tests", "PublicApi");
        string approved = Path.Combine(dir, "Lstm.Core.approved.txt");
        string received = Path.Combine(dir, "Lstm.Core.received.txt");
        if (File.Exists(approved) && File.ReadAllText(approved).ReplaceLineEndings("\n") == api)
        {
            File.Delete(received);
            return;
        }
        File.WriteAllText(received, api);
        Assert.Fail($"The public API of Lstm.Core changed: compare {received} with {approved}, and copy it over if the change is meant.");
    }
}
