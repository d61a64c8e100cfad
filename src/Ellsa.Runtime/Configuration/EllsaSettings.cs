namespace Ellsa.Runtime.Configuration;

/// <summary>The special ids the engine acts on. Defaults are the released model's (00-design.md §4).</summary>
public sealed record SpecialTokens
{
    public int Bos { get; init; } = 128000;
    public int SpeechEos { get; init; } = 128009;
    public int Bot { get; init; } = 128259;
    public int Eot { get; init; } = 128260;
    public int Silence { get; init; } = 128261;
    public int Bop { get; init; } = 128262;
    public int Eop { get; init; } = 128263;
    public int Boa { get; init; } = 151844;
    public int Eoa { get; init; } = 151845;
    public int Boi { get; init; } = 151852;
    public int Eoi { get; init; } = 151853;
    public int Img { get; init; } = 151851;
    public int Eof { get; init; } = 151847;
    public int VisualBase { get; init; } = 151854;
    public int VisualCount { get; init; } = 32768;
    public int ActionFirst { get; init; } = 149594;
    public int ActionLast { get; init; } = 151642;
    public int FastBase { get; init; } = 151642;

    /// <summary>The JSON key of each field, in ellsa.json's spelling.</summary>
    public static readonly string[] Keys =
    [
        "bos", "speech_eos", "bot", "eot", "silence", "bop", "eop", "boa", "eoa", "boi", "eoi", "img", "eof",
        "visual_base", "visual_count", "action_first", "action_last", "fast_base",
    ];

    public static SpecialTokens Read(JsonSection json)
    {
        foreach (string key in json.Keys)
        {
            if (Array.IndexOf(Keys, key) < 0)
                throw json.Bad(key, $"is not a known token (known: {string.Join(", ", Keys)})");
        }
        var d = new SpecialTokens();
        var tokens = new SpecialTokens
        {
            Bos = json.Int("bos", d.Bos, 0, ConfigBounds.MaxVocabSize - 1),
            SpeechEos = json.Int("speech_eos", d.SpeechEos, 0, ConfigBounds.MaxVocabSize - 1),
            Bot = json.Int("bot", d.Bot, 0, ConfigBounds.MaxVocabSize - 1),
            Eot = json.Int("eot", d.Eot, 0, ConfigBounds.MaxVocabSize - 1),
            Silence = json.Int("silence", d.Silence, 0, ConfigBounds.MaxVocabSize - 1),
            Bop = json.Int("bop", d.Bop, 0, ConfigBounds.MaxVocabSize - 1),
            Eop = json.Int("eop", d.Eop, 0, ConfigBounds.MaxVocabSize - 1),
            Boa = json.Int("boa", d.Boa, 0, ConfigBounds.MaxVocabSize - 1),
            Eoa = json.Int("eoa", d.Eoa, 0, ConfigBounds.MaxVocabSize - 1),
            Boi = json.Int("boi", d.Boi, 0, ConfigBounds.MaxVocabSize - 1),
            Eoi = json.Int("eoi", d.Eoi, 0, ConfigBounds.MaxVocabSize - 1),
            Img = json.Int("img", d.Img, 0, ConfigBounds.MaxVocabSize - 1),
            Eof = json.Int("eof", d.Eof, 0, ConfigBounds.MaxVocabSize - 1),
            VisualBase = json.Int("visual_base", d.VisualBase, 0, ConfigBounds.MaxVocabSize - 1),
            VisualCount = json.Int("visual_count", d.VisualCount, 1, ConfigBounds.MaxVocabSize),
            ActionFirst = json.Int("action_first", d.ActionFirst, 0, ConfigBounds.MaxVocabSize - 1),
            ActionLast = json.Int("action_last", d.ActionLast, 0, ConfigBounds.MaxVocabSize - 1),
            FastBase = json.Int("fast_base", d.FastBase, 0, ConfigBounds.MaxVocabSize - 1),
        };
        if (tokens.ActionLast < tokens.ActionFirst)
            throw json.Bad("action_last", $"({tokens.ActionLast}) is below action_first ({tokens.ActionFirst})");
        return tokens;
    }

    /// <summary>
    /// Every id a session writes into a sequence must have an embedding row in the expert that
    /// reads it; checked at load, so a wrong ellsa.json is named before the first block.
    /// </summary>
    /// <param name="speechIds">Rows of the speech embedding (extra rows included).</param>
    /// <param name="visionIds">Rows of the vision embedding.</param>
    public void CheckVocabularies(int speechIds, int visionIds)
    {
        foreach (var (key, id) in new[] { ("bos", Bos), ("speech_eos", SpeechEos), ("bot", Bot), ("eot", Eot), ("silence", Silence), ("bop", Bop), ("eop", Eop) })
            Require(key, id, speechIds, "speech");
        foreach (var (key, id) in new[] { ("boa", Boa), ("eoa", Eoa), ("boi", Boi), ("eoi", Eoi), ("img", Img), ("eof", Eof), ("action_first", ActionFirst), ("action_last", ActionLast), ("fast_base", FastBase) })
            Require(key, id, visionIds, "vision");
        Require("visual_base", VisualBase, visionIds, "vision");
        if ((long)VisualBase + VisualCount > visionIds)
            throw new ConfigException(
                $"{EllsaSettings.FileName}: tokens.visual_count: the visual codes visual_base..visual_base + visual_count - 1 = {VisualBase}..{(long)VisualBase + VisualCount - 1} must lie inside the vision vocabulary ({visionIds} ids)");
    }

    private static void Require(string key, int id, int size, string expert)
    {
        if (id >= size)
            throw new ConfigException(
                $"{EllsaSettings.FileName}: tokens.{key} = {id} is outside the {expert} vocabulary ({size} ids, 0..{size - 1}); set the model's own special ids in {EllsaSettings.FileName}");
    }

    public IEnumerable<(string Key, int Id)> Named() =>
    [
        ("bos", Bos), ("speech_eos", SpeechEos), ("bot", Bot), ("eot", Eot), ("silence", Silence), ("bop", Bop), ("eop", Eop),
        ("boa", Boa), ("eoa", Eoa), ("boi", Boi), ("eoi", Eoi), ("img", Img), ("eof", Eof),
        ("visual_base", VisualBase), ("visual_count", VisualCount), ("action_first", ActionFirst),
        ("action_last", ActionLast), ("fast_base", FastBase),
    ];
}

/// <summary>How merged LoRA projections are stored. F32 keeps W + (α/r)·B·A exact; BF16 halves their bytes.</summary>
public enum MergedLoraDtype
{
    F32,
    BF16,
}

/// <summary>The LoRA adapters' scaling: ΔW = (alpha / r) · B · A. Released: r 256, alpha 256.</summary>
public sealed record LoraSettings(int R, double Alpha, MergedLoraDtype MergedDtype)
{
    public static LoraSettings Released => new(256, 256, MergedLoraDtype.F32);
    public double Scaling => Alpha / R;

    public static readonly string[] Keys = ["r", "alpha", "merged_dtype"];

    public static LoraSettings Read(JsonSection json)
    {
        json.RequireKnownKeys(Keys);
        var d = Released;
        string dtype = json.String("merged_dtype", "f32")!.ToLowerInvariant();
        var merged = dtype switch
        {
            "f32" => MergedLoraDtype.F32,
            "bf16" => MergedLoraDtype.BF16,
            _ => throw json.Bad("merged_dtype", $"must be \"f32\" or \"bf16\", got \"{dtype}\""),
        };
        return new LoraSettings(json.Int("r", d.R, 1), json.Number("alpha", d.Alpha, positive: true), merged);
    }
}

/// <summary>How a camera frame is written into the sequence (01-model.md §6).</summary>
public sealed record ImageSettings(int[] HeaderIds, int CodesPerFrame)
{
    /// <summary>Emu3's "1*25*25" header and 25×25 codes.</summary>
    public static ImageSettings Released => new([16, 9, 17, 20, 9, 17, 20], 625);

    public static readonly string[] Keys = ["header_ids", "codes_per_frame"];

    public static ImageSettings Read(JsonSection json)
    {
        json.RequireKnownKeys(Keys);
        var d = Released;
        var header = json.IntArray("header_ids") ?? d.HeaderIds;
        if (header.Length > ConfigBounds.MaxHeaderIds)
            throw json.Bad("header_ids", $"has {header.Length} ids, more than {ConfigBounds.MaxHeaderIds}");
        return new ImageSettings(header, json.Int("codes_per_frame", d.CodesPerFrame, 1, ConfigBounds.MaxCodesPerFrame));
    }
}

/// <summary>
/// Where the codec assets live, relative to the model directory: the FAST action tokenizer
/// (<c>fast/tokenizer.json</c> + <c>processor_config.json</c>), the action normalisation statistics
/// and the text tokenizer. Absent files simply leave that codec out. The paths are confined to the
/// model directory as shard names are: relative, without <c>..</c>.
/// </summary>
public sealed record CodecSettings
{
    public string FastAssets { get; init; } = "fast";
    public string NormStats { get; init; } = "norm_stats.json";
    /// <summary>Which entry of norm_stats.json to use (LIBERO: "libero"); null picks the only one.</summary>
    public string? NormKey { get; init; }
    public int? TimeHorizon { get; init; }
    public int? ActionDim { get; init; }
    public string Tokenizer { get; init; } = "tokenizer.json";

    public static readonly string[] FastKeys = ["assets", "norm_stats", "norm_key", "time_horizon", "action_dim"];
    public static readonly string[] TextKeys = ["tokenizer"];

    public static CodecSettings Read(JsonSection? fast, JsonSection? text)
    {
        fast?.RequireKnownKeys(FastKeys);
        text?.RequireKnownKeys(TextKeys);
        var d = new CodecSettings();
        return new CodecSettings
        {
            FastAssets = fast is { } f1 ? InsideModel(f1, "assets", d.FastAssets) : d.FastAssets,
            NormStats = fast is { } f2 ? InsideModel(f2, "norm_stats", d.NormStats) : d.NormStats,
            NormKey = fast?.String("norm_key", null),
            TimeHorizon = fast?.OptionalInt("time_horizon", 1, ConfigBounds.MaxTimeHorizon),
            ActionDim = fast?.OptionalInt("action_dim", 1, ConfigBounds.MaxActionDim),
            Tokenizer = text is { } t ? InsideModel(t, "tokenizer", d.Tokenizer) : d.Tokenizer,
        };
    }

    /// <summary>The file <paramref name="relative"/> (ellsa.json <paramref name="key"/>) names in the model directory, or null when there is none.</summary>
    public static string? ExistingFile(string directory, string key, string relative)
    {
        string path = Path.Combine(directory, relative);
        if (Directory.Exists(path))
            throw new ConfigException($"{EllsaSettings.FileName}: {key} '{relative}' is a directory; a file is expected");
        return File.Exists(path) ? path : null;
    }

    /// <summary>The directory <paramref name="relative"/> (ellsa.json <paramref name="key"/>) names in the model directory, or null when there is none.</summary>
    public static string? ExistingDirectory(string directory, string key, string relative)
    {
        string path = Path.Combine(directory, relative);
        if (File.Exists(path))
            throw new ConfigException($"{EllsaSettings.FileName}: {key} '{relative}' is a file; a directory is expected");
        return Directory.Exists(path) ? path : null;
    }

    /// <summary>A path relative to the model directory that cannot leave it (the target may still be a link, as in a Hugging Face cache).</summary>
    private static string InsideModel(JsonSection json, string key, string fallback)
    {
        string path = json.String(key, fallback) ?? fallback;
        string[] segments = path.Split('/', '\\');
        if (path.Length == 0 || Path.IsPathRooted(path) || path.Contains('\0') || path.Contains('\\')
            || segments.Any(segment => segment == ".."))
            throw json.Bad(key, $"'{path}' must stay inside the model directory (a relative path with '/' and without '..')");
        return path;
    }
}

/// <summary>Duplex session defaults (overridable per session).</summary>
public sealed record SessionSettings
{
    /// <summary>Positions a session's sequence may reach; null: the smaller expert's max_position_embeddings.</summary>
    public int? ContextLimit { get; init; }

    /// <summary>Fraction of the context limit above which the oldest history is dropped; null: 1.</summary>
    public double? TrimAt { get; init; }

    /// <summary>Fraction of the context limit a trim goes down to; null: 0.75.</summary>
    public double? TrimTo { get; init; }

    /// <summary>The keys of the session section (extend with each new session setting).</summary>
    public static readonly List<string> Keys = ["context_limit", "trim_at", "trim_to"];

    /// <summary>The context limit is checked against max_position_embeddings by <see cref="ModelConfig"/>, which knows both experts.</summary>
    public static SessionSettings Read(JsonSection? json)
    {
        json?.RequireKnownKeys(Keys);
        return new()
        {
            ContextLimit = json?.OptionalInt("context_limit", 16, ConfigBounds.MaxPositions),
            TrimAt = Fraction(json, "trim_at"),
            TrimTo = Fraction(json, "trim_to"),
        };
    }

    private static double? Fraction(JsonSection? json, string key)
    {
        if (json is not { } section || !section.Has(key))
            return null;
        double value = section.Number(key, 1, positive: true);
        return value <= 1 ? value : throw section.Bad(key, $"must be a fraction of the context limit in (0, 1], got {value}");
    }
}

/// <summary>The engine's own settings file, <c>ellsa.json</c>; absent keys take the released model's values.</summary>
public sealed record EllsaSettings
{
    public const string FileName = "ellsa.json";

    /// <summary>The sections ellsa.json may have; each section lists its own keys.</summary>
    /// <remarks>"speech_encoder" and "speech_decoder" are read by the speech input and output themselves (Codecs/Speech,
    /// Codecs/SpeechOut), which a directory without the SA-MoE may hold alone.</remarks>
    public static readonly List<string> Sections = ["tokens", "lora", "image", "fast", "text", "session", "speech_encoder", "speech_decoder", "weights"];

    public SpecialTokens Tokens { get; init; } = new();
    public LoraSettings Lora { get; init; } = LoraSettings.Released;
    public ImageSettings Image { get; init; } = ImageSettings.Released;
    public CodecSettings Codecs { get; init; } = new();
    public SessionSettings Session { get; init; } = new();
    public WeightSettings Weights { get; init; } = WeightSettings.Default;
    /// <summary>Whether the file existed (otherwise every value is a default).</summary>
    public bool FromFile { get; init; }
    /// <summary>Where ellsa.json was read from, so codec sections added later can resolve relative paths.</summary>
    public string? SourcePath { get; init; }

    public static EllsaSettings Load(string directory)
    {
        string path = Path.Combine(directory, FileName);
        if (!File.Exists(path))
            return new EllsaSettings();
        using var document = JsonSection.ParseFile(path);
        var json = new JsonSection(FileName, "", document.RootElement);
        json.RequireKnownKeys(Sections);
        return new EllsaSettings
        {
            Tokens = json.Section("tokens") is { } tokens ? SpecialTokens.Read(tokens) : new SpecialTokens(),
            Lora = json.Section("lora") is { } lora ? LoraSettings.Read(lora) : LoraSettings.Released,
            Image = json.Section("image") is { } image ? ImageSettings.Read(image) : ImageSettings.Released,
            Codecs = CodecSettings.Read(json.Section("fast"), json.Section("text")),
            Session = SessionSettings.Read(json.Section("session")),
            Weights = json.Section("weights") is { } weights ? WeightSettings.Read(weights) : WeightSettings.Default,
            FromFile = true,
            SourcePath = path,
        };
    }
}
