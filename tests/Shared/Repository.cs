namespace Lstm.Tests.Shared;

/// <summary>Where the repository (the folder holding Lstm.sln) and the read-only shared/ folder beside it are.</summary>
internal static class Repository
{
    public static string Root()
    {
        for (DirectoryInfo? dir = new(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Lstm.sln")))
            {
                return dir.FullName;
            }
        }
        throw new DirectoryNotFoundException("Lstm.sln not found above " + AppContext.BaseDirectory);
    }

    public static string Shared() => Path.Combine(Path.GetDirectoryName(Root())!, "shared");
}
