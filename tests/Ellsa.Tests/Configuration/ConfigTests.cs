using Ellsa.Runtime.Configuration;
using Ellsa.Tests.Support;

namespace Ellsa.Tests.Configuration;

public sealed class ConfigTests
{
    private static ModelConfig Load(string speech, string vision, string? ellsa = null)
    {
        using var temp = TestPaths.CreateTemp();
        File.WriteAllText(temp.File("config.json"), speech);
        File.WriteAllText(temp.File("vision_config.json"), vision);
        if (ellsa is not null)
            File.WriteAllText(temp.File("ellsa.json"), ellsa);
        return ModelConfig.Load(temp.Path);
    }

    [Fact]
    public void AbsentKeysTakeTheReleasedModelsValues()
    {
        var config = Load("{}", "{}");
        Assert.Equal(ExpertConfig.ReleasedSpeech with { File = "config.json" }, config.Speech);
        Assert.Equal(ExpertConfig.ReleasedVision with { File = "vision_config.json" }, config.Vision);
        Assert.Equal(new Llama3RopeScaling(8, 1, 4, 8192), config.Speech.RopeScaling);
        Assert.Null(config.Vision.RopeScaling);
        var tokens = config.Settings.Tokens;
        Assert.Equal((128000, 128009, 128259, 128260, 128261, 128262, 128263), (tokens.Bos, tokens.SpeechEos, tokens.Bot, tokens.Eot, tokens.Silence, tokens.Bop, tokens.Eop));
        Assert.Equal((151844, 151845, 151852, 151853, 151851, 151847), (tokens.Boa, tokens.Eoa, tokens.Boi, tokens.Eoi, tokens.Img, tokens.Eof));
        Assert.Equal((151854, 32768, 149594, 151642, 151642), (tokens.VisualBase, tokens.VisualCount, tokens.ActionFirst, tokens.ActionLast, tokens.FastBase));
        Assert.Equal(1.0, config.Settings.Lora.Scaling);
        Assert.False(config.Settings.FromFile);
    }

    [Fact]
    public void AnExplicitNullRopeScalingMeansPlainRope()
    {
        var config = Load("""{"rope_scaling": null}""", """{"rope_scaling": {"rope_type": "default"}}""");
        Assert.Null(config.Speech.RopeScaling);
        Assert.Null(config.Vision.RopeScaling);
    }

    [Theory]
    [InlineData("""{"num_attention_heads": "many"}""", "config.json: num_attention_heads must be an integer")]
    [InlineData("""{"rope_scaling": {"rope_type": "yarn"}}""", "config.json: rope_scaling.rope_type 'yarn' is not supported")]
    [InlineData("""{"rope_scaling": {"rope_type": "llama3", "factor": -2}}""", "config.json: rope_scaling.factor must be positive")]
    [InlineData("""{"hidden_size": 100, "num_attention_heads": 3, "num_key_value_heads": 3}""", "config.json: hidden_size (100) is not a multiple")]
    [InlineData("""{"num_attention_heads": 32, "num_key_value_heads": 5}""", "not a multiple of num_key_value_heads")]
    [InlineData("""{"rms_norm_eps": 0}""", "config.json: rms_norm_eps must be positive")]
    [InlineData("not json", "config.json: not valid JSON")]
    public void BadConfigValuesNameTheFileAndKey(string speech, string message)
    {
        var error = Assert.Throws<ConfigException>(() => Load(speech, "{}"));
        Assert.Contains(message, error.Message);
    }

    [Fact]
    public void ExpertsMustShareTheAttentionGeometry()
    {
        var error = Assert.Throws<ConfigException>(() => Load("""{"num_key_value_heads": 8}""", """{"num_key_value_heads": 4}"""));
        Assert.Contains("num_key_value_heads (8 vs 4)", error.Message);
    }

    [Fact]
    public void EllsaJsonOverridesTokensAndRejectsUnknownOnes()
    {
        var config = Load("{}", "{}", """{"tokens": {"eot": 7}, "lora": {"r": 8, "alpha": 4, "merged_dtype": "bf16"}}""");
        Assert.Equal(7, config.Settings.Tokens.Eot);
        Assert.Equal(128000, config.Settings.Tokens.Bos);
        Assert.Equal(0.5, config.Settings.Lora.Scaling);
        Assert.Equal(MergedLoraDtype.BF16, config.Settings.Lora.MergedDtype);

        var error = Assert.Throws<ConfigException>(() => Load("{}", "{}", """{"tokens": {"eott": 7}}"""));
        Assert.Contains("ellsa.json: tokens.eott is not a known token", error.Message);
    }

    [Fact]
    public void MissingConfigFilesAreNamed()
    {
        using var temp = TestPaths.CreateTemp();
        File.WriteAllText(temp.File("config.json"), "{}");
        var error = Assert.Throws<ConfigException>(() => ModelConfig.Load(temp.Path));
        Assert.Contains("vision_config.json: not found", error.Message);
    }
}
