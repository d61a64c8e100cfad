using System.Text.Json;
using Ellsa.Runtime.Configuration;

namespace Ellsa.Runtime.Codecs.Vision;

/// <summary>
/// <c>vision_tokenizer/config.json</c>: Emu3VisionVQConfig's keys (VQC:81-110), defaults the
/// release's (BAAI/Emu3-VisionTokenizer). Every size is bounded before anything is allocated from
/// it, and the combinations the authors' code cannot run are refused with the key that breaks them.
/// </summary>
public sealed record VisionTokenizerConfig
{
    public const string FileName = "config.json";
    /// <summary>nn.GroupNorm(num_groups=32) throughout the authors' blocks.</summary>
    public const int NormGroups = 32;

    public int Channels { get; init; } = 256;
    public int[] ChannelMultipliers { get; init; } = [1, 2, 2, 4];
    public int ResBlocks { get; init; } = 2;
    public int[] AttentionLevels { get; init; } = [3];
    public int ZChannels { get; init; } = 4;
    public int EmbedDim { get; init; } = 4;
    public int CodebookSize { get; init; } = 32768;
    public int InChannels { get; init; } = 3;
    public int OutChannels { get; init; } = 3;
    public int TemporalDownsample { get; init; } = 4;

    /// <summary>Pixels per code along each side: 2^(levels − 1).</summary>
    public int SpatialFactor => 1 << (ChannelMultipliers.Length - 1);
    public int Levels => ChannelMultipliers.Length;
    public int TimeConvs => (int)Math.Log2(TemporalDownsample);
    public int WidthAt(int level) => Channels * ChannelMultipliers[level];
    public int TopWidth => WidthAt(Levels - 1);

    public static VisionTokenizerConfig Load(string directory)
    {
        string path = Path.Combine(directory, FileName);
        string name = $"vision_tokenizer/{FileName}";
        using var document = JsonFiles.Parse(path, problem => new ConfigException($"{name}: {problem}"));
        var root = new JsonSection(name, "", document.RootElement);
        var config = new VisionTokenizerConfig
        {
            Channels = Bounded(root, "ch", 256, 1, 8192),
            ChannelMultipliers = List(root, "ch_mult", [1, 2, 2, 4], 1, 64, maxLength: 8),
            ResBlocks = Bounded(root, "num_res_blocks", 2, 1, 16),
            AttentionLevels = List(root, "attn_resolutions", [3], 0, 7, maxLength: 8, minLength: 0),
            ZChannels = Bounded(root, "z_channels", 4, 1, 1024),
            EmbedDim = Bounded(root, "embed_dim", 4, 1, 1024),
            CodebookSize = Bounded(root, "codebook_size", 32768, 1, 1 << 20),
            InChannels = Bounded(root, "in_channels", 3, 3, 3),
            OutChannels = Bounded(root, "out_channels", 3, 3, 3),
            TemporalDownsample = Bounded(root, "temporal_downsample_factor", 4, 1, 16),
        };
        if (root.Bool("double_z", false))
            throw root.Bad("double_z", "is true, which the authors' temporal convs cannot take (they read z_channels inputs)");
        if (config.ZChannels != config.EmbedDim)
            throw root.Bad("embed_dim", $"is {config.EmbedDim} but z_channels is {config.ZChannels}; the decoder concatenates the two, so they must agree");
        if ((config.TemporalDownsample & (config.TemporalDownsample - 1)) != 0)
            throw root.Bad("temporal_downsample_factor", $"is {config.TemporalDownsample}, not a power of two");
        for (int level = 0; level < config.Levels; level++)
        {
            if (config.WidthAt(level) % NormGroups != 0)
                throw root.Bad("ch_mult", $"gives {config.WidthAt(level)} channels at level {level}, not a multiple of GroupNorm's {NormGroups} groups");
        }
        if ((long)config.TopWidth > 16384)
            throw root.Bad("ch", $"× ch_mult gives {config.TopWidth} channels, more than 16384");
        // dropout is a training setting: read to type-check it, ignored in eval as the authors' model ignores it.
        root.Number("dropout", 0);
        return config;
    }

    private static int Bounded(JsonSection section, string key, int fallback, int min, int max)
    {
        int value = section.Int(key, fallback);
        if (value < min || value > max)
            throw section.Bad(key, $"is {value}, outside {min}…{max}");
        return value;
    }

    private static int[] List(JsonSection section, string key, int[] fallback, int min, int max, int maxLength, int minLength = 1)
    {
        var values = section.IntArray(key) ?? fallback;
        if (values.Length < minLength || values.Length > maxLength)
            throw section.Bad(key, $"has {values.Length} entries, outside {minLength}…{maxLength}");
        foreach (int value in values)
        {
            if (value < min || value > max)
                throw section.Bad(key, $"holds {value}, outside {min}…{max}");
        }
        return values;
    }
}

/// <summary>
/// <c>vision_tokenizer/preprocessor_config.json</c> (Emu3VisionVQImageProcessor's keys, VQP:57-87).
/// <see cref="MinPixels"/> is the file's value; the evaluation wrapper overrides it with 6400 (W:116).
/// </summary>
public sealed record VisionPreprocessorConfig
{
    public const string FileName = "preprocessor_config.json";
    /// <summary>model_wrapper_emu.py sets min_pixels = 80·80 on the processor it builds.</summary>
    public const int WrapperMinPixels = 80 * 80;

    public int MinPixels { get; init; } = 512 * 512;
    public int MaxPixels { get; init; } = 1024 * 1024;
    public int SpatialFactor { get; init; } = 8;
    public bool DoResize { get; init; } = true;
    public bool DoRescale { get; init; } = true;
    public bool DoNormalize { get; init; } = true;
    public bool DoConvertRgb { get; init; } = true;
    public int Resample { get; init; } = 3;
    public double RescaleFactor { get; init; } = 1 / 255.0;
    public float[] Mean { get; init; } = [0.5f, 0.5f, 0.5f];
    public float[] Std { get; init; } = [0.5f, 0.5f, 0.5f];

    public static VisionPreprocessorConfig Load(string directory)
    {
        string path = Path.Combine(directory, FileName);
        string name = $"vision_tokenizer/{FileName}";
        if (!File.Exists(path))
            return new VisionPreprocessorConfig();
        using var document = JsonFiles.Parse(path, problem => new ConfigException($"{name}: {problem}"));
        var root = new JsonSection(name, "", document.RootElement);
        var config = new VisionPreprocessorConfig
        {
            MinPixels = root.Int("min_pixels", 512 * 512, min: 1),
            MaxPixels = root.Int("max_pixels", 1024 * 1024, min: 1),
            SpatialFactor = root.Int("spatial_factor", 8, min: 1),
            DoResize = root.Bool("do_resize", true),
            DoRescale = root.Bool("do_rescale", true),
            DoNormalize = root.Bool("do_normalize", true),
            DoConvertRgb = root.Bool("do_convert_rgb", true),
            Resample = root.Int("resample", 3),
            RescaleFactor = root.Number("rescale_factor", 1 / 255.0, positive: true),
            Mean = Triple(document.RootElement, root, "image_mean", [0.5f, 0.5f, 0.5f]),
            Std = Triple(document.RootElement, root, "image_std", [0.5f, 0.5f, 0.5f]),
        };
        if (config.Resample != 3)
            throw root.Bad("resample", $"is {config.Resample}; the engine reproduces Pillow's bicubic (3) only");
        if (config.MaxPixels > 4096 * 4096 || config.MinPixels > config.MaxPixels)
            throw root.Bad("max_pixels", $"is {config.MaxPixels} with min_pixels {config.MinPixels}: at most 4096² and not below min_pixels");
        if (config.Std.Any(s => !(s > 0)))
            throw root.Bad("image_std", "must be positive");
        return config;
    }

    /// <summary>image_mean/std: three numbers in the release (a single number is broadcast, as the processor allows).</summary>
    private static float[] Triple(JsonElement root, JsonSection section, string key, float[] fallback)
    {
        if (!root.TryGetProperty(key, out var raw) || raw.ValueKind == JsonValueKind.Null)
            return fallback;
        if (raw.ValueKind == JsonValueKind.Number)
            return [(float)raw.GetDouble(), (float)raw.GetDouble(), (float)raw.GetDouble()];
        if (raw.ValueKind != JsonValueKind.Array || raw.GetArrayLength() != 3 || raw.EnumerateArray().Any(v => v.ValueKind != JsonValueKind.Number))
            throw section.Bad(key, "must be three numbers");
        return raw.EnumerateArray().Select(v => (float)v.GetDouble()).ToArray();
    }
}
