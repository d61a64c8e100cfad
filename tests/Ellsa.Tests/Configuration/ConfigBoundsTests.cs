using Ellsa.Runtime.Configuration;
using Ellsa.Tests.Support;

namespace Ellsa.Tests.Configuration;

/// <summary>
/// Every size or count read from a config is checked against a stated bound before anything is
/// sized from it, and the error names the file, the field and the bound; ellsa.json refuses keys
/// it does not define and paths that leave the model directory.
/// </summary>
public sealed class ConfigBoundsTests
{
    private static ConfigException Refused(string speech, string vision = "{}", string? ellsa = null)
    {
        using var temp = TestPaths.CreateTemp();
        File.WriteAllText(temp.File("config.json"), speech);
        File.WriteAllText(temp.File("vision_config.json"), vision);
        if (ellsa is not null)
            File.WriteAllText(temp.File("ellsa.json"), ellsa);
        return Assert.Throws<ConfigException>(() => ModelConfig.Load(temp.Path));
    }

    [Theory]
    [InlineData("""{"num_hidden_layers": 1000000}""", "config.json: num_hidden_layers must be at most 1024, got 1000000")]
    [InlineData("""{"hidden_size": 1048576}""", "config.json: hidden_size must be at most 65536")]
    [InlineData("""{"intermediate_size": 10000000}""", "config.json: intermediate_size must be at most 262144")]
    [InlineData("""{"num_attention_heads": 65536, "num_key_value_heads": 8}""", "config.json: num_attention_heads must be at most 1024")]
    [InlineData("""{"head_dim": 65536}""", "config.json: head_dim must be at most 1024")]
    [InlineData("""{"vocab_size": 1000000000}""", "config.json: vocab_size must be at most 4194304")]
    [InlineData("""{"max_position_embeddings": 3000000}""", "config.json: max_position_embeddings must be at most 262144")]
    [InlineData("""{"num_hidden_layers": 1e12}""", "config.json: num_hidden_layers must be at most 1024, got 1e12")]
    [InlineData("""{"rope_theta": 1e400}""", "config.json: rope_theta must be a finite number")]
    public void OversizedExpertValuesNameTheFieldAndTheBound(string speech, string message)
    {
        Assert.Contains(message, Refused(speech).Message);
    }

    [Theory]
    [InlineData("config.json")]
    [InlineData("vision_config.json")]
    public void RopeScalingWithoutRopeTypeIsRefused(string file)
    {
        const string scaling = """{"rope_scaling": {"factor": 8.0, "low_freq_factor": 1.0, "high_freq_factor": 4.0}}""";
        var error = file == "config.json" ? Refused(scaling) : Refused("{}", scaling);
        Assert.Contains($"{file}: rope_scaling.rope_type is missing", error.Message);
    }

    [Theory]
    [InlineData("""{"session": {"context_limit": 3000000}}""", "ellsa.json: session.context_limit must be at most 262144")]
    [InlineData("""{"session": {"context_limit": 9000}}""", "ellsa.json: session.context_limit must be at most 8192 (the smaller max_position_embeddings")]
    [InlineData("""{"fast": {"time_horizon": 40000}}""", "ellsa.json: fast.time_horizon must be at most 1024, got 40000")]
    [InlineData("""{"fast": {"action_dim": 100000}}""", "ellsa.json: fast.action_dim must be at most 256")]
    [InlineData("""{"tokens": {"bos": 1000000000}}""", "ellsa.json: tokens.bos must be at most 4194303")]
    [InlineData("""{"image": {"codes_per_frame": 1000000000}}""", "ellsa.json: image.codes_per_frame must be at most 65536")]
    [InlineData("""{"lora": {"alpha": 1e400}}""", "ellsa.json: lora.alpha must be a finite number")]
    public void OversizedSettingsNameTheFieldAndTheBound(string ellsa, string message)
    {
        var error = Refused("""{"max_position_embeddings": 8192}""", """{"max_position_embeddings": 10000}""", ellsa);
        Assert.Contains(message, error.Message);
    }

    [Fact]
    public void AContextLimitWithinThePositionsIsKept()
    {
        using var temp = TestPaths.CreateTemp();
        File.WriteAllText(temp.File("config.json"), """{"max_position_embeddings": 8192}""");
        File.WriteAllText(temp.File("vision_config.json"), "{}");
        File.WriteAllText(temp.File("ellsa.json"), """{"session": {"context_limit": 5120}, "fast": {"time_horizon": 10, "action_dim": 7}}""");
        var config = ModelConfig.Load(temp.Path);
        Assert.Equal(5120, config.Settings.Session.ContextLimit);
        Assert.Equal(10, config.Settings.Codecs.TimeHorizon);
    }

    [Theory]
    [InlineData("""{"sesion": {"context_limit": 64}}""", "ellsa.json: sesion is not a known key (known: tokens, lora, image, fast, text, session, speech_encoder, speech_decoder, weights)")]
    [InlineData("""{"lora": {"r": 8, "alfa": 16}}""", "ellsa.json: lora.alfa is not a known key of lora")]
    [InlineData("""{"fast": {"asset": "fast"}}""", "ellsa.json: fast.asset is not a known key of fast")]
    [InlineData("""{"text": {"tokeniser": "tokenizer.json"}}""", "ellsa.json: text.tokeniser is not a known key of text")]
    [InlineData("""{"session": {"context_limt": 64}}""", "ellsa.json: session.context_limt is not a known key of session")]
    [InlineData("""{"image": {"codes": 625}}""", "ellsa.json: image.codes is not a known key of image")]
    public void UnknownEllsaKeysAreRefusedByName(string ellsa, string message)
    {
        Assert.Contains(message, Refused("{}", "{}", ellsa).Message);
    }

    [Theory]
    [InlineData("text", "tokenizer", "../../../etc/hostname")]
    [InlineData("text", "tokenizer", "/dev/zero")]
    [InlineData("fast", "assets", "../fast")]
    [InlineData("fast", "assets", "fast/../../elsewhere")]
    [InlineData("fast", "norm_stats", "/etc/passwd")]
    [InlineData("fast", "norm_stats", "..\\norm_stats.json")]
    public void CodecPathsMustStayInsideTheModelDirectory(string section, string key, string path)
    {
        string json = new System.Text.Json.Nodes.JsonObject { [section] = new System.Text.Json.Nodes.JsonObject { [key] = path } }.ToJsonString();
        var error = Refused("{}", "{}", json);
        Assert.StartsWith($"ellsa.json: {section}.{key} '", error.Message);
        Assert.Contains("must stay inside the model directory", error.Message);
    }

    [Fact]
    public void ADeviceGivenAsAConfigIsRefusedWithoutReadingIt()
    {
        using var temp = TestPaths.CreateTemp();
        File.CreateSymbolicLink(temp.File("config.json"), "/dev/zero");
        File.WriteAllText(temp.File("vision_config.json"), "{}");
        var error = Assert.Throws<ConfigException>(() => ModelConfig.Load(temp.Path));
        Assert.Contains("config.json: is not a regular file", error.Message);
    }
}
