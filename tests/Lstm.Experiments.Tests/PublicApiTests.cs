namespace Lstm.Experiments.Tests;

/// <summary>The public API of Lstm.Experiments, kept in PublicApi/Lstm.Experiments.approved.txt (see PublicApiApproval).</summary>
public class PublicApiTests
{
    [Fact]
    public void PublicApi_MatchesTheApprovedFile() =>
        Lstm.Tests.Shared.PublicApiApproval.Verify(typeof(Lstm.Experiments.CharModel.CharTrainer).Assembly, "Lstm.Experiments.Tests");
}
