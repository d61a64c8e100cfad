using Ellsa.Runtime.Configuration;
using Ellsa.Tests.Support;

namespace Ellsa.Tests.Q8;

/// <summary>How q8 is asked for: ellsa.json <c>weights.format</c> and <c>--weights</c>; anything else refused by name.</summary>
public sealed class WeightFormatOptionTests
{
    [Theory]
    [InlineData("{\"weights\": {\"format\": \"q8\"}}", WeightFormat.Q8)]
    [InlineData("{\"weights\": {\"format\": \"bf16\"}}", WeightFormat.Bf16)]
    [InlineData("{}", WeightFormat.Bf16)]
    public void EllsaJsonChoosesTheFormat(string json, WeightFormat expected)
    {
        using var temp = TestPaths.CreateTemp();
        File.WriteAllText(Path.Combine(temp.Path, EllsaSettings.FileName), json);
        Assert.Equal(expected, EllsaSettings.Load(temp.Path).Weights.Format);
    }

    [Theory]
    [InlineData("{\"weights\": {\"format\": \"q4\"}}", "weights.format")]
    [InlineData("{\"weights\": {\"dtype\": \"q8\"}}", "dtype")]
    [InlineData("{\"weights\": {\"format\": 8}}", "weights.format")]
    public void UnknownValuesAreRefusedNamingTheField(string json, string field)
    {
        using var temp = TestPaths.CreateTemp();
        File.WriteAllText(Path.Combine(temp.Path, EllsaSettings.FileName), json);
        var error = Assert.Throws<ConfigException>(() => EllsaSettings.Load(temp.Path));
        Assert.Contains(field, error.Message);
        Assert.Contains(EllsaSettings.FileName, error.Message);
    }

    [Fact]
    public void ForwardTakesWeightsQ8AndRefusesOtherValues()
    {
        using var temp = TestPaths.CreateTemp();
        string sequence = Path.Combine(TestPaths.TinyGoldens, "speech_block.seq.json");
        string bf16 = Path.Combine(temp.Path, "bf16.json"), q8 = Path.Combine(temp.Path, "q8.json");
        Assert.Equal(0, CliRunner.InProcess("forward", "--model", TestPaths.Tiny, "--input", sequence, "--output", bf16, "--device", "cpu").ExitCode);
        var run = CliRunner.InProcess("forward", "--model", TestPaths.Tiny, "--input", sequence, "--output", q8, "--device", "cpu", "--weights", "q8");
        Assert.True(run.ExitCode == 0, run.Stderr);
        Assert.NotEqual(File.ReadAllText(bf16), File.ReadAllText(q8));

        var bad = CliRunner.InProcess("forward", "--model", TestPaths.Tiny, "--input", sequence, "--output", q8, "--weights", "q4");
        Assert.Equal(2, bad.ExitCode);
        Assert.Contains("--weights", bad.Stderr);
    }
}
