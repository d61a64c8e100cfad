namespace Ellsa.Runtime.Configuration;

/// <summary>Both experts and the engine settings of one model directory, checked against each other.</summary>
public sealed record ModelConfig(string Directory, ExpertConfig Speech, ExpertConfig Vision, EllsaSettings Settings)
{
    public const string SpeechFile = "config.json";
    public const string VisionFile = "vision_config.json";

    public static ModelConfig Load(string directory)
    {
        if (!System.IO.Directory.Exists(directory))
            throw new ConfigException($"{directory}: model directory not found");
        var speech = ExpertConfig.Load(Path.Combine(directory, SpeechFile), ExpertConfig.ReleasedSpeech);
        var vision = ExpertConfig.Load(Path.Combine(directory, VisionFile), ExpertConfig.ReleasedVision);
        var config = new ModelConfig(directory, speech, vision, EllsaSettings.Load(directory));
        config.CheckJointGeometry();
        config.CheckContextLimit();
        return config;
    }

    /// <summary>Positions neither expert was trained for; also the default context limit.</summary>
    public int MaxPositions => Math.Min(Speech.MaxPositionEmbeddings, Vision.MaxPositionEmbeddings);

    /// <summary>The KV cache is preallocated for the context limit, so it may not exceed what the experts' RoPE was trained for.</summary>
    private void CheckContextLimit()
    {
        if (Settings.Session.ContextLimit is { } limit && limit > MaxPositions)
            throw new ConfigException(
                $"{EllsaSettings.FileName}: session.context_limit must be at most {MaxPositions} (the smaller max_position_embeddings of {SpeechFile} and {VisionFile}), got {limit}");
    }

    public ExpertConfig this[Moe.Expert expert] => expert == Moe.Expert.Speech ? Speech : Vision;

    /// <summary>Joint attention runs one set of heads over one cache, so the experts must share that geometry.</summary>
    public void CheckJointGeometry()
    {
        Check("hidden_size", Speech.HiddenSize, Vision.HiddenSize);
        Check("num_hidden_layers", Speech.Layers, Vision.Layers);
        Check("num_attention_heads", Speech.Heads, Vision.Heads);
        Check("num_key_value_heads", Speech.KvHeads, Vision.KvHeads);
        Check("head_dim", Speech.HeadDim, Vision.HeadDim);
    }

    private static void Check(string key, int speech, int vision)
    {
        if (speech != vision)
            throw new ConfigException(
                $"{SpeechFile} and {VisionFile} disagree on {key} ({speech} vs {vision}): the experts share one attention and KV cache, so they must agree");
    }
}
