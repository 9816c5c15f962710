namespace Lstm.Simd.Tests;

/// <summary>The public API of Lstm.Simd, kept in PublicApi/Lstm.Simd.approved.txt (see PublicApiApproval).</summary>
public class PublicApiTests
{
    [Fact]
    public void PublicApi_MatchesTheApprovedFile() =>
        Lstm.Tests.Shared.PublicApiApproval.Verify(typeof(Lstm.Simd.SimdPaths).Assembly, "Lstm.Simd.Tests");
}
