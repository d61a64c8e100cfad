using System.Runtime.InteropServices;
using Ellsa.Runtime.Checkpoints;

namespace Ellsa.Runtime.Codecs.SpeechOut;

/// <summary>
/// The flow's fixed conditioning, speech_prompt.safetensors (tests/goldens/speech_out/README.md,
/// "Checkpoint and prompt files"): the prompt speech's tokens and mel, the speaker x-vector, and
/// the flow matching's start noise (the authors draw it once at construction,
/// flow_matching.py:L190; the file freezes it). Every window the flow synthesises is prefixed by
/// this prompt. Values are held on the host as fp32; the file is closed after loading.
/// </summary>
public sealed class SpeechPrompt
{
    public const string TokenName = "prompt_token";
    public const string FeatName = "prompt_feat";
    public const string EmbeddingName = "embedding";
    public const string NoiseName = "cfm_noise";

    private SpeechPrompt(string fileName, int[] tokens, float[] feat, float[] embedding, float[] noise, int noiseFrames)
    {
        FileName = fileName;
        Tokens = tokens;
        Feat = feat;
        Embedding = embedding;
        Noise = noise;
        NoiseFrames = noiseFrames;
    }

    /// <summary>The file's name, for errors about the prompt.</summary>
    public string FileName { get; }
    /// <summary>prompt_token [Np]: speech tokens of the prompt, prefixed to every window.</summary>
    public int[] Tokens { get; }
    /// <summary>prompt_feat [Nf, 80] row-major: the prompt's mel, the condition of the first Nf frames.</summary>
    public float[] Feat { get; }
    public int FeatFrames => Feat.Length / FlowConfig.MelChannels;
    /// <summary>embedding [spk_embed_dim]: the speaker x-vector (CAM++).</summary>
    public float[] Embedding { get; }
    /// <summary>cfm_noise [80, N] row-major (channel-major, as stored): the start of the flow for frame f is column f.</summary>
    public float[] Noise { get; }
    public int NoiseFrames { get; }

    /// <summary>
    /// Reads and checks the four tensors (nothing else may be in the file): prompt_token I32/I64
    /// [1, Np] of non-negative ids, prompt_feat [1, Nf, 80], embedding [1, D], cfm_noise [1, 80, N]
    /// with N ≥ 1, the float ones F32, F16 or BF16 and finite. Errors name the file and tensor.
    /// </summary>
    public static SpeechPrompt Load(string path)
    {
        using var file = SafetensorsFile.Open(path);
        string name = Path.GetFileName(path);
        foreach (string tensor in file.Entries.Keys)
        {
            if (tensor is not (TokenName or FeatName or EmbeddingName or NoiseName))
                throw new CheckpointException(name, tensor, $"is not a prompt tensor (a prompt file holds {TokenName}, {FeatName}, {EmbeddingName} and {NoiseName})");
        }
        var tokenEntry = Entry(file, name, TokenName, 2, "[1, Np]");
        var tokens = Ids(file, name, tokenEntry);
        var feat = Floats(file, name, Entry(file, name, FeatName, 3, "[1, Nf, 80]"), FeatName);
        var featShape = file.Entries[FeatName].Shape;
        if (featShape[2] != FlowConfig.MelChannels)
            throw new CheckpointException(name, FeatName, $"has shape [{string.Join(", ", featShape)}]; a prompt mel is [1, Nf, {FlowConfig.MelChannels}]");
        var embeddingEntry = Entry(file, name, EmbeddingName, 2, "[1, D]");
        if (embeddingEntry.Shape[1] < 1)
            throw new CheckpointException(name, EmbeddingName, "is empty; the x-vector needs at least one value");
        var embedding = Floats(file, name, embeddingEntry, EmbeddingName);
        var noiseEntry = Entry(file, name, NoiseName, 3, "[1, 80, N]");
        if (noiseEntry.Shape[1] != FlowConfig.MelChannels || noiseEntry.Shape[2] < 1)
            throw new CheckpointException(name, NoiseName, $"has shape {noiseEntry.ShapeText}; the start noise is [1, {FlowConfig.MelChannels}, N] with N ≥ 1");
        var noise = Floats(file, name, noiseEntry, NoiseName);
        return new SpeechPrompt(name, tokens, feat, embedding, noise, checked((int)noiseEntry.Shape[2]));
    }

    /// <summary>A present tensor of the given rank with batch 1.</summary>
    private static SafetensorsEntry Entry(SafetensorsFile file, string name, string tensor, int rank, string shape)
    {
        if (!file.Entries.TryGetValue(tensor, out var entry))
            throw new CheckpointException(name, tensor, $"is missing (a prompt file holds {tensor} {shape})");
        if (entry.Shape.Length != rank || entry.Shape[0] != 1)
            throw new CheckpointException(name, tensor, $"has shape {entry.ShapeText}, expected {shape}");
        if (entry.ElementCount > int.MaxValue / 2)
            throw new CheckpointException(name, tensor, $"has {entry.ElementCount} values, too many for a prompt");
        return entry;
    }

    private static int[] Ids(SafetensorsFile file, string name, SafetensorsEntry entry)
    {
        var bytes = file.Bytes(entry);
        int[] ids = entry.Dtype switch
        {
            SafetensorsDtype.I32 => MemoryMarshal.Cast<byte, int>(bytes).ToArray(),
            SafetensorsDtype.I64 => MemoryMarshal.Cast<byte, long>(bytes).ToArray()
                .Select(v => v is < 0 or > int.MaxValue ? throw new CheckpointException(name, entry.Name, $"holds id {v}, outside 0…{int.MaxValue}") : (int)v)
                .ToArray(),
            _ => throw new CheckpointException(name, entry.Name, $"has dtype {entry.Dtype}; speech token ids are I32 or I64"),
        };
        int negative = Array.FindIndex(ids, id => id < 0);
        if (negative >= 0)
            throw new CheckpointException(name, entry.Name, $"holds id {ids[negative]} at position {negative}; speech token ids are 0 or more");
        return ids;
    }

    private static unsafe float[] Floats(SafetensorsFile file, string name, SafetensorsEntry entry, string tensor)
    {
        if (!SafetensorsDtypes.IsFloatWeight(entry.Dtype))
            throw new CheckpointException(name, tensor, $"has dtype {entry.Dtype}; prompt values are F32, F16 or BF16");
        var values = new float[entry.ElementCount];
        fixed (float* destination = values)
            Weights.TensorConversion.Widen(new StoredTensor(file, entry), destination, values.Length);
        int bad = Array.FindIndex(values, v => !float.IsFinite(v));
        if (bad >= 0)
            throw new CheckpointException(name, tensor, $"holds {values[bad]} at element {bad}; prompt values must be finite");
        return values;
    }
}
