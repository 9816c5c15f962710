using Lstm.Core;

namespace Lstm.ReadmeSnippets;

/// <summary>What the README's examples take as given: the caller's data and a network from an earlier example.</summary>
internal static class Given
{
#pragma warning disable CA2211, SA1401, IDE1006 // the README's lower-case names, assigned nowhere: the examples are compiled, not run
    public static float[] x = [], h0 = [], c0 = [], dy = [], dhn = [], dcn = [], xt = [], yt = [], weightsFromPyTorch = [];
    public static int steps = 1, batch = 1;
    public static float[] dx = [], dh0 = [], dc0 = [], initialH = [], initialC = [];
    public static double lr = 0.01;
    public static Lstm.Core.Training.Optimizer optimizer = new Lstm.Core.Training.Adam();
    public static IReadOnlyList<(float[] Parameter, float[] Gradient)> pairs = [];
    public static RecurrentNetwork net = null!;
#pragma warning restore CA2211, SA1401, IDE1006
}
