namespace Lstm.Core.Tests;

/// <summary>The public API of Lstm.Core, kept in PublicApi/Lstm.Core.approved.txt (see PublicApiApproval).</summary>
public class PublicApiTests
{
    [Fact]
    public void PublicApi_MatchesTheApprovedFile() =>
        Lstm.Tests.Shared.PublicApiApproval.Verify(typeof(Lstm.Core.RecurrentNetwork).Assembly, "Lstm.Core.Tests");
}
