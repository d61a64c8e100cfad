using Xunit;
using System.Text.Json;

namespace Ellsa.Tests.Codecs;

/// <summary>Where the codec tests find their files: the repository root (the folder holding
/// ELLSA.sln), the released assets in ../shared/data next to it, and the goldens.</summary>
internal static class CodecPaths
{
    public static readonly string RepoRoot = FindRepoRoot();

    public static string SharedData => Path.GetFullPath(Path.Combine(RepoRoot, "..", "shared", "data"));

    public static string LiberoFast => Path.Combine(SharedData, "fast");

    public static string LiberoNormStats => Path.Combine(SharedData, "norm_stats", "libero_pre.json");

    public static string TinyFast => Path.Combine(RepoRoot, "weights", "tiny", "fast");

    public static string TinyNormStats => Path.Combine(RepoRoot, "weights", "tiny", "norm_stats.json");

    public static string TinyTextTokenizer => Path.Combine(RepoRoot, "weights", "tiny", "tokenizer.json");

    /// <summary>A path written in a golden file, relative to the repository root.</summary>
    public static string FromRoot(string relative) => Path.GetFullPath(Path.Combine(RepoRoot, relative));

    public static JsonElement Golden(string name)
    {
        string path = Path.Combine(RepoRoot, "tests", "goldens", "fast", name);
        using var document = JsonDocument.Parse(File.ReadAllText(path));
        return document.RootElement.Clone();
    }

    /// <summary>A released asset; a missing one fails with the path, not a bare IOException.</summary>
    public static string RequireShared(string path)
    {
        Assert.True(File.Exists(path) || Directory.Exists(path),
            $"released asset missing: {path} (the tests read ../shared/data next to the repository root)");
        return path;
    }

    private static string FindRepoRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "ELLSA.sln")))
            {
                return dir.FullName;
            }
        }
        throw new InvalidOperationException($"no ELLSA.sln above {AppContext.BaseDirectory}");
    }
}
