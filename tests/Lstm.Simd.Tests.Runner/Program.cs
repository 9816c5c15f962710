using System.Diagnostics;
using System.Reflection;
using Xunit;
using Xunit.Sdk;

// Runs every [Fact] and every row of every [Theory] of Lstm.Simd.Tests, one at a time, and exits 1 if any fails.
// Arguments: substrings of "Class.Method" to run only those (all when none), and `--skip SUBSTRING` to leave some out.
// Enough of xunit for these tests: public parameterless constructors, InlineData and MemberData, IDisposable; anything
// else is reported as a failure.
Assembly tests = typeof(Lstm.Simd.Tests.TestData).Assembly;
var filters = new List<string>();
var skips = new List<string>();
for (int i = 0; i < args.Length; i++)
{
    if (args[i] == "--skip" && i + 1 < args.Length)
    {
        skips.Add(args[++i]);
    }
    else
    {
        filters.Add(args[i]);
    }
}
int passed = 0, failed = 0, skipped = 0;
var clock = Stopwatch.StartNew();
var seconds = new Dictionary<string, double>();
foreach (Type type in tests.GetExportedTypes().Where(t => t.IsClass && !t.IsAbstract).OrderBy(t => t.FullName, StringComparer.Ordinal))
{
    foreach (MethodInfo method in type.GetMethods(BindingFlags.Public | BindingFlags.Instance | BindingFlags.Static))
    {
        FactAttribute? fact = method.GetCustomAttribute<FactAttribute>();
        string name = $"{type.Name}.{method.Name}";
        if (fact is null || (filters.Count > 0 && !filters.Any(f => name.Contains(f, StringComparison.Ordinal))))
        {
            continue;
        }
        if (fact.Skip is not null || skips.Any(f => name.Contains(f, StringComparison.Ordinal)))
        {
            skipped++;
            continue;
        }
        IEnumerable<object?[]> rows;
        try
        {
            rows = fact is TheoryAttribute
                ? method.GetCustomAttributes<DataAttribute>().SelectMany(d => d.GetData(method)).ToList()
                : [[]];
        }
        catch (Exception e)
        {
            Fail(name, "its data could not be read", e);
            continue;
        }
        long methodStart = Stopwatch.GetTimestamp();
        foreach (object?[]? maybeRow in rows)
        {
            object?[] row = maybeRow ?? [null]; // [InlineData(null)] passes a null array: one null argument, as xunit reads it
            string display = row.Length == 0 ? name : $"{name}({string.Join(", ", row.Select(v => v?.ToString() ?? "null"))})";
            try
            {
                object? instance = method.IsStatic ? null : Activator.CreateInstance(type);
                try
                {
                    object? result = method.Invoke(instance, row);
                    if (result is Task task)
                    {
                        task.GetAwaiter().GetResult();
                    }
                }
                finally
                {
                    (instance as IDisposable)?.Dispose();
                }
                passed++;
            }
            catch (Exception e)
            {
                Fail(display, "failed", e is TargetInvocationException { InnerException: { } inner } ? inner : e);
            }
        }
        seconds[name] = Stopwatch.GetElapsedTime(methodStart).TotalSeconds;
    }
}
Console.WriteLine("slowest: " + string.Join(", ", seconds.OrderByDescending(p => p.Value).Take(8).Select(p => $"{p.Key} {p.Value:F1} s")));
Console.WriteLine($"Lstm.Simd.Tests on {System.Runtime.InteropServices.RuntimeInformation.ProcessArchitecture} (paths {string.Join(", ", Lstm.Simd.SimdPaths.Available)}): " +
    $"{passed} passed, {failed} failed, {skipped} skipped in {clock.Elapsed.TotalSeconds:F0} s");
return failed == 0 && passed > 0 ? 0 : 1;

void Fail(string test, string what, Exception e)
{
    failed++;
    Console.WriteLine($"FAIL {test}: {what}: {e.GetType().Name}: {e.Message}");
}
