using System.Text.Json;

namespace Ellsa.Runtime.Codecs.Fast;

/// <summary>The FAST processor's processor_config.json: scale, min_token, vocab_size and the
/// optional (often null) time_horizon / action_dim.</summary>
internal sealed record FastProcessorConfig(double Scale, int MinToken, int VocabSize, int? TimeHorizon, int? ActionDim)
{
    public static FastProcessorConfig Load(string path)
    {
        using var document = JsonFile.Parse(path);
        var root = document.RootElement;
        if (root.ValueKind != JsonValueKind.Object)
        {
            throw new FastCodecException($"{path}: expected a JSON object");
        }
        double scale = Number(root, "scale", path);
        if (!(scale > 0) || !double.IsFinite(scale))
        {
            throw new FastCodecException($"{path}: scale: must be a positive number, found {scale}");
        }
        int minToken = Integer(root, "min_token", path);
        int vocabSize = Integer(root, "vocab_size", path);
        if (vocabSize <= 0)
        {
            throw new FastCodecException($"{path}: vocab_size: must be positive, found {vocabSize}");
        }
        return new FastProcessorConfig(scale, minToken, vocabSize,
            OptionalPositive(root, "time_horizon", path), OptionalPositive(root, "action_dim", path));
    }

    private static double Number(JsonElement root, string name, string path)
    {
        if (!root.TryGetProperty(name, out var value))
        {
            throw new FastCodecException($"{path}: {name}: is missing");
        }
        if (value.ValueKind != JsonValueKind.Number)
        {
            throw new FastCodecException($"{path}: {name}: expected a number, found {value.GetRawText()}");
        }
        return value.GetDouble();
    }

    private static int Integer(JsonElement root, string name, string path)
    {
        double value = Number(root, name, path);
        if (value != Math.Floor(value) || Math.Abs(value) > int.MaxValue)
        {
            throw new FastCodecException($"{path}: {name}: expected an integer, found {value}");
        }
        return (int)value;
    }

    private static int? OptionalPositive(JsonElement root, string name, string path)
    {
        if (!root.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null)
        {
            return null;
        }
        int n = Integer(root, name, path);
        return n > 0 ? n : throw new FastCodecException($"{path}: {name}: must be positive or null, found {n}");
    }
}
