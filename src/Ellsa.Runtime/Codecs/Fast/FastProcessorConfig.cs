using System.Text.Json;
using Ellsa.Runtime.Configuration;

namespace Ellsa.Runtime.Codecs.Fast;

/// <summary>The FAST processor's processor_config.json: scale, min_token, vocab_size and the
/// optional (often null) time_horizon / action_dim.</summary>
internal sealed record FastProcessorConfig(double Scale, int MinToken, int VocabSize, int? TimeHorizon, int? ActionDim)
{
    public static FastProcessorConfig Load(string path)
    {
        using var document = JsonFile.ParseAsset(path);
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
        if (vocabSize <= 0 || vocabSize > ConfigBounds.MaxVocabSize)
        {
            throw new FastCodecException($"{path}: vocab_size: must be in 1..{ConfigBounds.MaxVocabSize}, found {vocabSize}");
        }
        return new FastProcessorConfig(scale, minToken, vocabSize,
            OptionalPositive(root, "time_horizon", path, ConfigBounds.MaxTimeHorizon),
            OptionalPositive(root, "action_dim", path, ConfigBounds.MaxActionDim));
    }

    private static double Number(JsonElement root, string name, string path)
    {
        if (!root.TryGetProperty(name, out var value))
        {
            throw new FastCodecException($"{path}: {name}: is missing");
        }
        if (value.ValueKind != JsonValueKind.Number || !value.TryGetDouble(out double number) || !double.IsFinite(number))
        {
            throw new FastCodecException($"{path}: {name}: expected a finite number, found {value.GetRawText()}");
        }
        return number;
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

    private static int? OptionalPositive(JsonElement root, string name, string path, int max)
    {
        if (!root.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null)
        {
            return null;
        }
        int n = Integer(root, name, path);
        return n > 0 && n <= max ? n : throw new FastCodecException($"{path}: {name}: must be in 1..{max} or null, found {n}");
    }
}
