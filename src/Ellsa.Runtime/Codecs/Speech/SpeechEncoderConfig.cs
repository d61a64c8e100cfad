using Ellsa.Runtime.Configuration;

namespace Ellsa.Runtime.Codecs.Speech;

/// <summary>
/// ellsa.json's <c>"speech_encoder"</c> section: the SPEAR encoder's arguments under the authors'
/// names (Conv2dSubsampling, Zipformer2 and the projector as get_speech_encoder builds them,
/// MIX:1899-1913 and 1985-2029), defaults the release's. Per-stack keys take one value for every
/// stack or one per stack (the length of downsampling_factor). Every size is bounded before
/// anything is allocated from it, and the combinations the authors' code asserts against are
/// refused naming the key.
/// </summary>
public sealed record SpeechEncoderConfig
{
    public const string SectionName = "speech_encoder";

    public int NumMelBins { get; init; } = 128;
    public int Layer1Channels { get; init; } = 8;
    public int Layer2Channels { get; init; } = 32;
    public int Layer3Channels { get; init; } = 128;
    public int OutputDownsamplingFactor { get; init; } = 1;
    public int[] DownsamplingFactor { get; init; } = [1, 2, 4, 8, 4, 2, 1];
    public int[] NumEncoderLayers { get; init; } = [1, 2, 3, 4, 1, 1, 1];
    public int[] EncoderDim { get; init; } = Release(1280);
    public int[] EncoderUnmaskedDim { get; init; } = Release(768);
    public int[] QueryHeadDim { get; init; } = Release(32);
    public int[] PosHeadDim { get; init; } = Release(4);
    public int[] ValueHeadDim { get; init; } = Release(12);
    public int PosDim { get; init; } = 48;
    public int[] NumHeads { get; init; } = Release(8);
    public int[] FeedforwardDim { get; init; } = Release(3840);
    public int[] CnnModuleKernel { get; init; } = [31, 31, 15, 15, 15, 31, 31];
    public bool Causal { get; init; } = true;
    public int ChunkSize { get; init; } = 8;
    public int LeftContextFrames { get; init; } = 256;
    public int SegSize { get; init; } = 10;
    public int Hidden { get; init; } = 6400;
    public int OutputDim { get; init; } = 4096;

    public int Stacks => DownsamplingFactor.Length;
    /// <summary>Left context in whole chunks, as Zipformer2.get_chunk_info rounds it (at least one).</summary>
    public int LeftContextChunks => Math.Max(1, LeftContextFrames / ChunkSize);
    /// <summary>The encoder's output width: the widest stack (_get_full_dim_output).</summary>
    public int ModelDim => EncoderDim.Max();
    /// <summary>Frequency bins left after the subsampling convs: (((mel − 1) // 2) − 1) // 2 (31 at 128).</summary>
    public int EmbedFrequencies => ((NumMelBins - 1) / 2 - 1) / 2;
    public int ProjectorInput => ModelDim * SegSize;

    /// <summary>Fbank frames the subsampling needs for one encoder frame: T' = (T − 7) // 2.</summary>
    public static int EncoderFrames(long fbankFrames) => fbankFrames < 7 ? 0 : checked((int)((fbankFrames - 7) / 2));

    /// <summary>The keys of the section and of its encoder_embed object.</summary>
    public static readonly string[] Keys =
    [
        "num_mel_bins", "encoder_embed", "output_downsampling_factor", "downsampling_factor", "num_encoder_layers",
        "encoder_dim", "encoder_unmasked_dim", "query_head_dim", "pos_head_dim", "value_head_dim", "pos_dim", "num_heads",
        "feedforward_dim", "cnn_module_kernel", "causal", "chunk_size", "left_context_frames", "seg_size", "hidden", "output_dim",
    ];

    public static readonly string[] EmbedKeys = ["layer1_channels", "layer2_channels", "layer3_channels"];

    /// <summary>The section's values; null (no section) gives the release.</summary>
    /// <param name="file">The settings file's name, for errors about the section as a whole.</param>
    public static SpeechEncoderConfig Read(JsonSection? section, string file)
    {
        if (section is not { } json)
            return new SpeechEncoderConfig();
        json.RequireKnownKeys(Keys);
        var d = new SpeechEncoderConfig();
        var embed = json.Section("encoder_embed");
        embed?.RequireKnownKeys(EmbedKeys);
        var factors = json.IntArray("downsampling_factor") ?? d.DownsamplingFactor;
        if (factors.Length is < 1 or > 16)
            throw json.Bad("downsampling_factor", $"has {factors.Length} stacks, outside 1…16");
        for (int i = 0; i < factors.Length; i++)
        {
            if (factors[i] is < 1 or > 256)
                throw json.Bad($"downsampling_factor[{i}]", $"is {factors[i]}, outside 1…256");
        }
        int stacks = factors.Length;
        var config = new SpeechEncoderConfig
        {
            NumMelBins = json.Int("num_mel_bins", d.NumMelBins, 7, 1024),
            Layer1Channels = embed?.Int("layer1_channels", d.Layer1Channels, 1, 4096) ?? d.Layer1Channels,
            Layer2Channels = embed?.Int("layer2_channels", d.Layer2Channels, 1, 4096) ?? d.Layer2Channels,
            Layer3Channels = embed?.Int("layer3_channels", d.Layer3Channels, 1, 4096) ?? d.Layer3Channels,
            OutputDownsamplingFactor = json.Int("output_downsampling_factor", d.OutputDownsamplingFactor, 1, 2),
            DownsamplingFactor = factors,
            NumEncoderLayers = PerStack(json, "num_encoder_layers", d.NumEncoderLayers, stacks, 1, 64),
            EncoderDim = PerStack(json, "encoder_dim", [d.EncoderDim[0]], stacks, 2, ConfigBounds.MaxHiddenSize),
            EncoderUnmaskedDim = PerStack(json, "encoder_unmasked_dim", [d.EncoderUnmaskedDim[0]], stacks, 1, ConfigBounds.MaxHiddenSize),
            QueryHeadDim = PerStack(json, "query_head_dim", [d.QueryHeadDim[0]], stacks, 1, ConfigBounds.MaxHeadDim),
            PosHeadDim = PerStack(json, "pos_head_dim", [d.PosHeadDim[0]], stacks, 1, ConfigBounds.MaxHeadDim),
            ValueHeadDim = PerStack(json, "value_head_dim", [d.ValueHeadDim[0]], stacks, 1, ConfigBounds.MaxHeadDim),
            PosDim = json.Int("pos_dim", d.PosDim, 2, 1024),
            NumHeads = PerStack(json, "num_heads", [d.NumHeads[0]], stacks, 1, ConfigBounds.MaxHeads),
            FeedforwardDim = PerStack(json, "feedforward_dim", [d.FeedforwardDim[0]], stacks, 2, ConfigBounds.MaxIntermediateSize),
            CnnModuleKernel = PerStack(json, "cnn_module_kernel", d.CnnModuleKernel, stacks, 1, 1023),
            Causal = json.Bool("causal", d.Causal),
            ChunkSize = json.Int("chunk_size", d.ChunkSize, 1, 4096),
            LeftContextFrames = json.Int("left_context_frames", d.LeftContextFrames, 0, 1 << 16),
            SegSize = json.Int("seg_size", d.SegSize, 1, 4096),
            Hidden = json.Int("hidden", d.Hidden, 1, ConfigBounds.MaxIntermediateSize),
            OutputDim = json.Int("output_dim", d.OutputDim, 1, ConfigBounds.MaxHiddenSize),
        };
        config.Validate(json, file);
        return config;
    }

    private void Validate(JsonSection json, string file)
    {
        if (!Causal)
            throw json.Bad("causal", "is false: the engine runs the chunk-causal encoder only (a full-context encoder cannot stream block by block)");
        if (PosDim % 2 != 0)
            throw json.Bad("pos_dim", $"is {PosDim}, not even (CompactRelPositionalEncoding pairs cosines and sines)");
        for (int i = 0; i < Stacks; i++)
        {
            if (EncoderUnmaskedDim[i] > EncoderDim[i])
                throw json.Bad("encoder_unmasked_dim", $"is {EncoderUnmaskedDim[i]} for stack {i}, above its encoder_dim {EncoderDim[i]}");
            if (CnnModuleKernel[i] % 2 != 1)
                throw json.Bad("cnn_module_kernel", $"is {CnnModuleKernel[i]} for stack {i}, not odd");
            if (ChunkSize % DownsamplingFactor[i] != 0)
                throw json.Bad("chunk_size", $"is {ChunkSize}, not a multiple of stack {i}'s downsampling_factor {DownsamplingFactor[i]}");
            // Zipformer2._get_attn_mask asserts the left context covers each conv's history.
            if ((long)ChunkSize * LeftContextChunks < (long)(CnnModuleKernel[i] / 2) * DownsamplingFactor[i])
                throw json.Bad("left_context_frames",
                    $"gives {LeftContextChunks} chunks of {ChunkSize} frames, less than stack {i}'s conv history ({CnnModuleKernel[i] / 2} frames × downsampling {DownsamplingFactor[i]})");
            long attention = ((2L * QueryHeadDim[i]) + PosHeadDim[i]) * NumHeads[i];
            if (attention > ConfigBounds.MaxIntermediateSize || (long)ValueHeadDim[i] * NumHeads[i] > ConfigBounds.MaxIntermediateSize)
                throw json.Bad("num_heads", $"× head dims gives {attention} attention projections for stack {i}, more than {ConfigBounds.MaxIntermediateSize}");
        }
        if (EmbedFrequencies < 1)
            throw json.Bad("num_mel_bins", $"is {NumMelBins}: the subsampling convs leave no frequency bins");
        if ((long)EmbedFrequencies * Layer3Channels > ConfigBounds.MaxIntermediateSize)
            throw json.Bad("encoder_embed", $"layer3_channels × {EmbedFrequencies} frequencies exceeds {ConfigBounds.MaxIntermediateSize} inputs of encoder_embed.out");
        if ((long)ModelDim * SegSize > ConfigBounds.MaxIntermediateSize)
            throw new ConfigException($"{file}: {SectionName}.seg_size {SegSize} × the encoder width {ModelDim} exceeds the projector's {ConfigBounds.MaxIntermediateSize} inputs");
    }

    /// <summary>A value the release uses for all seven stacks.</summary>
    private static int[] Release(int value) => Enumerable.Repeat(value, 7).ToArray();

    /// <summary>One value for every stack or one per stack, expanded to one per stack (Zipformer2's _to_tuple).</summary>
    private static int[] PerStack(JsonSection json, string key, int[] fallback, int stacks, int min, int max)
    {
        var values = json.IntArray(key) ?? fallback;
        if (values.Length != 1 && values.Length != stacks)
        {
            if (!json.Has(key))
                throw json.Bad("downsampling_factor", $"has {stacks} stacks but the default {key} lists {values.Length}; give {key} for {stacks} stacks");
            throw json.Bad(key, $"has {values.Length} values; give one for every stack or one per stack ({stacks})");
        }
        for (int i = 0; i < values.Length; i++)
        {
            if (values[i] < min || values[i] > max)
                throw json.Bad($"{key}[{i}]", $"is {values[i]}, outside {min}…{max}");
        }
        return values.Length == stacks ? values : Enumerable.Repeat(values[0], stacks).ToArray();
    }
}
