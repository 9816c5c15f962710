using System.Text.RegularExpressions;

namespace Lstm.Cli.Tests;

/// <summary>The MSBuild settings hold on every OS: none depends on how a path is spelled.</summary>
public sealed partial class BuildSettingsTests
{
    // A condition such as $(MSBuildProjectDirectory.Contains('/src/Lstm.Core')) is false on Windows, whose paths use
    // backslashes: the libraries silently lost net8.0, AOT analysis and their package settings there.
    [GeneratedRegex(@"Condition=""[^""]*(MSBuildProjectDirectory|MSBuildProjectFullPath|MSBuildThisFileDirectory)[^""]*""")]
    private static partial Regex PathCondition();

    [Fact]
    public void NoBuildFile_ChoosesSettingsByMatchingAPath()
    {
        string root = Lstm.Tests.Shared.Repository.Root();
        string[] files = [.. Directory.EnumerateFiles(root, "Directory.Build.*", SearchOption.AllDirectories)
            .Where(f => !f.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}", StringComparison.Ordinal))];
        Assert.Contains(files, f => f.EndsWith(Path.Combine("src", "Directory.Build.props"), StringComparison.Ordinal));
        foreach (string file in files)
        {
            Match m = PathCondition().Match(File.ReadAllText(file));
            Assert.False(m.Success, $"{file}: {m.Value}");
        }
    }
}
