using System.Reflection;
using PublicApiGenerator;
using Xunit;

namespace Lstm.Tests.Shared;

/// <summary>
/// Keeps an assembly's public API in tests/&lt;project&gt;/PublicApi/&lt;assembly&gt;.approved.txt so that every change
/// of it shows in review. On a difference it writes &lt;assembly&gt;.received.txt beside it and fails: read the diff,
/// and if the change is meant, copy the received file over the approved one.
/// </summary>
internal static class PublicApiApproval
{
    public static void Verify(Assembly assembly, string testProject)
    {
        string name = assembly.GetName().Name!;
        string api = assembly.GeneratePublicApi(new ApiGeneratorOptions { IncludeAssemblyAttributes = false }).ReplaceLineEndings("\n");
        string dir = Path.Combine(Repository.Root(), "tests", testProject, "PublicApi");
        string approved = Path.Combine(dir, name + ".approved.txt");
        string received = Path.Combine(dir, name + ".received.txt");
        if (File.Exists(approved) && File.ReadAllText(approved).ReplaceLineEndings("\n") == api)
        {
            File.Delete(received);
            return;
        }
        File.WriteAllText(received, api);
        Assert.Fail($"The public API of {name} changed: compare {received} with {approved}, and copy it over if the change is meant.");
    }
}
