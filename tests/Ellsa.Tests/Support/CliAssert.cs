using Xunit;

namespace Ellsa.Tests.Support;

/// <summary>The CLI's error contract, as the command tests check it.</summary>
public static class CliAssert
{
    /// <summary>
    /// A non-zero exit and exactly one <c>error:</c> line on stderr (besides the <c>device:</c> and
    /// <c>note:</c> lines) naming <paramref name="subject"/> and <paramref name="problem"/>, within
    /// <paramref name="within"/> when given.
    /// </summary>
    public static void OneErrorLine(CliRunner.Result result, string label, string subject, string problem, TimeSpan? within = null)
    {
        Assert.True(result.ExitCode != 0, $"{label}: exit code 0");
        var lines = result.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries).Where(l => !l.StartsWith("device:") && !l.StartsWith("note:")).ToArray();
        Assert.True(lines.Length == 1, $"{label}: expected one error line, got:\n{result.Stderr}");
        Assert.StartsWith("error: ", lines[0]);
        Assert.Contains(subject, lines[0]);
        Assert.Contains(problem, lines[0]);
        if (within is { } limit)
            Assert.True(result.Elapsed < limit, $"{label}: took {result.Elapsed}");
    }
}
