namespace Ellsa.Tests.Support;

/// <summary>Locates the repository (by ELLSA.sln) and the shared data beside it.</summary>
public static class TestPaths
{
    private static readonly Lazy<string> RootPath = new(() =>
    {
        var directory = new DirectoryInfo(AppContext.BaseDirectory);
        while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "ELLSA.sln")))
            directory = directory.Parent;
        return directory?.FullName ?? throw new InvalidOperationException("ELLSA.sln not found above " + AppContext.BaseDirectory);
    });

    public static string Root => RootPath.Value;
    public static string Tiny => Path.Combine(Root, "weights", "tiny");
    public static string TinyGoldens => Path.Combine(Root, "tests", "goldens", "tiny");
    public static string Variants => Path.Combine(Root, "tests", "goldens", "variants");
    /// <summary>../shared/data beside the checkout: the released codec assets.</summary>
    public static string SharedData => Path.GetFullPath(Path.Combine(Root, "..", "shared", "data"));

    /// <summary>A fresh directory under the system temp folder, removed when disposed.</summary>
    public static TempDirectory CreateTemp() => new();
}

public sealed class TempDirectory : IDisposable
{
    public TempDirectory()
    {
        Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "ellsa-test-" + Guid.NewGuid().ToString("N")[..12]);
        Directory.CreateDirectory(Path);
    }

    public string Path { get; }

    public string File(string name) => System.IO.Path.Combine(Path, name);

    public void Dispose()
    {
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
