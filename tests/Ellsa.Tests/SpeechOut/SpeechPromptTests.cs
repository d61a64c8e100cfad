using System.Runtime.InteropServices;
using Ellsa.Runtime.Checkpoints;
using Ellsa.Runtime.Codecs.SpeechOut;
using Ellsa.Tests.Support;
using Xunit;

namespace Ellsa.Tests.SpeechOut;

/// <summary>
/// speech_prompt.safetensors: the goldens' prompts read with their shapes, every malformed file
/// refused as one line naming the file and tensor, and a prompt that does not fit the flow (ids
/// outside its vocabulary, another x-vector width, too little noise, a window too short to leave
/// frames after the prompt) refused before anything runs.
/// </summary>
public sealed class SpeechPromptTests
{
    [Fact]
    public void TheGoldensPromptsAreRead()
    {
        var small = SpeechOutGoldens.Prompt("small");
        Assert.Equal((84, 167, 192, 640, "speech_prompt.safetensors"),
            (small.Tokens.Length, small.FeatFrames, small.Embedding.Length, small.NoiseFrames, small.FileName));
        var wide = SpeechOutGoldens.Prompt("wide");
        Assert.Equal((47, 92, 96, 512), (wide.Tokens.Length, wide.FeatFrames, wide.Embedding.Length, wide.NoiseFrames));
        // The noise stays channel-major: column f is frame f (here: its first value, against the file's bytes).
        using var file = SafetensorsFile.Open(Path.Combine(SpeechOutGoldens.ModelDirectory("wide"), SpeechOutGoldens.PromptFile));
        var noise = MemoryMarshal.Cast<byte, float>(file.Bytes(file.Entries["cfm_noise"]));
        Assert.Equal(noise[512 * 3 + 7], wide.Noise[3 * wide.NoiseFrames + 7]);
    }

    public static TheoryData<string, string> Malformed() => new()
    {
        { "missing-noise", "speech_prompt.safetensors: tensor 'cfm_noise': is missing (a prompt file holds cfm_noise [1, 80, N])" },
        { "extra", "speech_prompt.safetensors: tensor 'speaker': is not a prompt tensor" },
        { "feat-79", "speech_prompt.safetensors: tensor 'prompt_feat': has shape [1, 5, 79]; a prompt mel is [1, Nf, 80]" },
        { "feat-rank", "speech_prompt.safetensors: tensor 'prompt_feat': has shape [5, 80], expected [1, Nf, 80]" },
        { "token-float", "speech_prompt.safetensors: tensor 'prompt_token': has dtype F32; speech token ids are I32 or I64" },
        { "token-negative", "speech_prompt.safetensors: tensor 'prompt_token': holds id -1 at position 1; speech token ids are 0 or more" },
        { "embedding-nan", "speech_prompt.safetensors: tensor 'embedding': holds NaN at element 2; prompt values must be finite" },
        { "embedding-empty", "speech_prompt.safetensors: tensor 'embedding': is empty" },
        { "noise-empty", "speech_prompt.safetensors: tensor 'cfm_noise': has shape [1, 80, 0]; the start noise is [1, 80, N] with N ≥ 1" },
        { "noise-int", "speech_prompt.safetensors: tensor 'cfm_noise': has dtype I32; prompt values are F32, F16 or BF16" },
        { "batch-2", "speech_prompt.safetensors: tensor 'embedding': has shape [2, 4], expected [1, D]" },
    };

    [Theory]
    [MemberData(nameof(Malformed))]
    public void AMalformedPromptIsRefusedNamingTheTensor(string kind, string message)
    {
        using var directory = TestPaths.CreateTemp();
        var tensors = new Dictionary<string, TensorData>
        {
            ["prompt_token"] = Ints("prompt_token", [1, 3], [4, 5, 6]),
            ["prompt_feat"] = Floats("prompt_feat", [1, 5, 80]),
            ["embedding"] = Floats("embedding", [1, 4]),
            ["cfm_noise"] = Floats("cfm_noise", [1, 80, 20]),
        };
        switch (kind)
        {
            case "missing-noise": tensors.Remove("cfm_noise"); break;
            case "extra": tensors["speaker"] = Floats("speaker", [1, 4]); break;
            case "feat-79": tensors["prompt_feat"] = Floats("prompt_feat", [1, 5, 79]); break;
            case "feat-rank": tensors["prompt_feat"] = Floats("prompt_feat", [5, 80]); break;
            case "token-float": tensors["prompt_token"] = Floats("prompt_token", [1, 3]); break;
            case "token-negative": tensors["prompt_token"] = Ints("prompt_token", [1, 3], [4, -1, 6]); break;
            case "embedding-nan": tensors["embedding"] = Floats("embedding", [1, 4], nanAt: 2); break;
            case "embedding-empty": tensors["embedding"] = Floats("embedding", [1, 0]); break;
            case "noise-empty": tensors["cfm_noise"] = Floats("cfm_noise", [1, 80, 0]); break;
            case "noise-int": tensors["cfm_noise"] = Ints("cfm_noise", [1, 80, 2], new int[160]); break;
            case "batch-2": tensors["embedding"] = Floats("embedding", [2, 4]); break;
        }
        string path = directory.File(SpeechOutGoldens.PromptFile);
        SafetensorsWriter.Write(path, tensors.Values);
        var error = Assert.Throws<CheckpointException>(() => SpeechPrompt.Load(path));
        Assert.StartsWith(message, error.Message);
        Assert.DoesNotContain('\n', error.Message);
    }

    [Fact]
    public void AMissingFileIsNamed()
    {
        var error = Assert.Throws<CheckpointException>(() => SpeechPrompt.Load("/nonexistent/speech_prompt.safetensors"));
        Assert.Equal("speech_prompt.safetensors: file not found", error.Message);
    }

    [Fact]
    public void APromptOrWindowTheFlowCannotTakeIsRefused()
    {
        var (flow, weights) = SpeechOutGoldens.LoadFlow("small", SharedBackends.Cpu);
        using var _ = weights;
        using var __ = flow;
        var prompt = SpeechOutGoldens.Prompt("small");

        var token = Assert.Throws<ArgumentException>(() => flow.Infer([1, 300, 2], prompt));
        Assert.Equal("speech token 1 is 300, outside the flow's vocabulary 0…299", token.Message);
        Assert.Throws<ArgumentException>(() => flow.Infer([-1], prompt));

        // 84 prompt tokens and 167 prompt frames: a window that is not the last needs 3 tokens to leave one frame.
        Assert.Equal(1, Flow.OutputFrames(3, prompt, finalize: false));
        var shortWindow = Assert.Throws<ArgumentException>(() => flow.Infer([1, 2], prompt, finalize: false));
        Assert.Equal("a window of 2 speech tokens gives 166 mel frames with the prompt, no more than the prompt's own 167: nothing would be left to synthesise",
            shortWindow.Message);

        using var directory = TestPaths.CreateTemp();
        SpeechPrompt Write(string name, int[] tokens, int dim, int noiseFrames)
        {
            string path = directory.File(name);
            SafetensorsWriter.Write(path, [Ints("prompt_token", [1, tokens.Length], tokens), Floats("prompt_feat", [1, 3, 80]),
                Floats("embedding", [1, dim]), Floats("cfm_noise", [1, 80, noiseFrames])]);
            return SpeechPrompt.Load(path);
        }
        var vocabulary = Assert.Throws<CheckpointException>(() => flow.Infer([1, 2], Write("vocab.safetensors", [5, 300], 192, 100)));
        Assert.Equal("vocab.safetensors: tensor 'prompt_token': holds id 300 at position 1, outside the flow's vocabulary 0…299", vocabulary.Message);
        var width = Assert.Throws<CheckpointException>(() => flow.Infer([1, 2], Write("width.safetensors", [5, 6], 96, 100)));
        Assert.Equal("width.safetensors: tensor 'embedding': has 96 values, but the flow's spk_embed_dim is 192", width.Message);
        var noise = Assert.Throws<CheckpointException>(() => flow.Infer([1, 2, 3, 4, 5, 6], Write("noise.safetensors", [5, 6], 192, 15)));
        Assert.Equal("noise.safetensors: tensor 'cfm_noise': holds 15 frames of noise, but a window of 6 tokens after the 2-token prompt needs 16", noise.Message);
        // The same short prompt with enough noise runs: 2·(2 + 6) − 3 frames.
        var output = flow.Infer([1, 2, 3, 4, 5, 6], Write("enough.safetensors", [5, 6], 192, 16));
        Assert.Equal(13, output.Frames);
        Assert.Equal(80 * 13, output.Mel.Length);
        Assert.All(output.Mel, v => Assert.True(float.IsFinite(v)));
    }

    private static TensorData Floats(string name, long[] shape, int nanAt = -1)
    {
        int count = (int)shape.Aggregate(1L, (a, b) => a * b);
        var values = Enumerable.Range(0, count).Select(i => i == nanAt ? float.NaN : MathF.Sin(i)).ToArray();
        return new TensorData(name, SafetensorsDtype.F32, shape, MemoryMarshal.AsBytes(values.AsSpan()).ToArray());
    }

    private static TensorData Ints(string name, long[] shape, int[] values) =>
        new(name, SafetensorsDtype.I32, shape, MemoryMarshal.AsBytes(values.AsSpan()).ToArray());
}
