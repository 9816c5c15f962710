namespace Lstm.Onnx.Tests;

/// <summary>The public API of Lstm.Onnx, kept in PublicApi/Lstm.Onnx.approved.txt (see PublicApiApproval).</summary>
public class PublicApiTests
{
    [Fact]
    public void PublicApi_MatchesTheApprovedFile() =>
        Lstm.Tests.Shared.PublicApiApproval.Verify(typeof(OnnxImport).Assembly, "Lstm.Onnx.Tests");
}
