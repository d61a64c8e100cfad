using Ellsa.Tests.Gpu.Checks;

namespace Ellsa.Tests.Support;

/// <summary>
/// One sequence's goldens written by tests/reference/make_goldens.py (see tests/goldens/tiny/README.md):
/// where its model and files are, its forward logits and its block decode, read by <see cref="GoldenFiles"/>.
/// </summary>
public sealed record Golden(GoldenCase Case, GoldenForward Forward, GoldenGenerate Generate)
{
    /// <summary><paramref name="model"/> is "tiny" (weights/tiny) or the name of a folder of tests/goldens/variants.</summary>
    public static Golden Load(string model, string name)
    {
        var golden = model == "tiny" ? GoldenFiles.Tiny(name) : GoldenFiles.Variant(model, name);
        return new Golden(golden, GoldenFiles.ReadForward(golden), GoldenFiles.ReadGenerate(golden));
    }

    /// <summary>The golden names present in a directory.</summary>
    public static IEnumerable<string> Names(string directory) =>
        Directory.GetFiles(directory, "*.generate.json").Select(p => Path.GetFileName(p)[..^".generate.json".Length]).Order();

    public override string ToString() => Case.ToString();
}
