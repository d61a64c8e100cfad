using System.Runtime.InteropServices;
using Ellsa.Kernels.Numerics;
using Ellsa.Runtime.Checkpoints;
using Ellsa.Runtime.Codecs.Speech;

namespace Ellsa.Tests.Speech;

/// <summary>
/// A speech encoder checkpoint of random, well-conditioned weights for any config, its tensors
/// listed here from the authors' module tree (MultiKDModel's encoder_embed and encoder, speech_proj,
/// and the tolerated ln_speech, audio_tagging_proj and mask_emb) independently of the loader.
/// Linear and conv weights have variance 1/fan_in so activations stay O(1) through the depth;
/// some matrices (or, as the released checkpoint, every matrix) are stored as BF16 when asked.
/// </summary>
public static class RandomSpeechCheckpoint
{
    public const string Prefix = "speech_expert.";

    public static List<TensorData> Tensors(SpeechEncoderConfig c, Random random, bool someBf16 = false, bool tolerated = true, bool allBf16 = false)
    {
        var list = new List<TensorData>();
        void Add(string name, double scale, double center, params long[] shape) =>
            list.Add(Make(Prefix + name, shape, random, scale, center, shape.Length == 2 && (allBf16 || someBf16 && random.Next(2) == 0)));
        void Weight(string name, params long[] shape) => Add(name, 1 / Math.Sqrt(shape.Skip(1).Aggregate(1L, (a, b) => a * b)), 0, shape);
        void Bias(string name, long n) => Add(name, 0.05, 0, n);
        void Linear(string name, long input, long output)
        {
            Weight(name + ".weight", output, input);
            Bias(name + ".bias", output);
        }

        string embed = "speechencoder.encoder_embed.";
        int l1 = c.Layer1Channels, l2 = c.Layer2Channels, l3 = c.Layer3Channels;
        Weight(embed + "conv.0.weight", l1, 1, 3, 3);
        Bias(embed + "conv.0.bias", l1);
        Weight(embed + "conv.4.weight", l2, l1, 3, 3);
        Bias(embed + "conv.4.bias", l2);
        Weight(embed + "conv.7.weight", l3, l2, 3, 3);
        Bias(embed + "conv.7.bias", l3);
        Weight(embed + "convnext.depthwise_conv.weight", l3, 1, 7, 7);
        Bias(embed + "convnext.depthwise_conv.bias", l3);
        Weight(embed + "convnext.pointwise_conv1.weight", 3 * l3, l3, 1, 1);
        Bias(embed + "convnext.pointwise_conv1.bias", 3 * l3);
        Weight(embed + "convnext.pointwise_conv2.weight", l3, 3 * l3, 1, 1);
        Bias(embed + "convnext.pointwise_conv2.bias", l3);
        int frequencies = ((c.NumMelBins - 1) / 2 - 1) / 2;
        Linear(embed + "out", l3 * frequencies, c.EncoderDim[0]);
        Add(embed + "out_norm.log_scale", 0.2, 0);
        Add(embed + "out_norm.bias", 0.3, 0, c.EncoderDim[0]);

        for (int i = 0; i < c.DownsamplingFactor.Length; i++)
        {
            int ds = c.DownsamplingFactor[i], d = c.EncoderDim[i], h = c.NumHeads[i], k = c.CnnModuleKernel[i], ff = c.FeedforwardDim[i];
            int q = c.QueryHeadDim[i], p = c.PosHeadDim[i], v = c.ValueHeadDim[i], nl = 3 * d / 4;
            string stack = $"speechencoder.encoder.encoders.{i}.";
            if (ds > 1)
            {
                Add(stack + "downsample.bias", 1, 0, ds);
                Add(stack + "out_combiner.bypass_scale", 0.3, 0.6, d);
            }
            for (int j = 0; j < c.NumEncoderLayers[i]; j++)
            {
                string layer = stack + (ds > 1 ? "encoder." : "") + $"layers.{j}.";
                Add(layer + "bypass_scale", 0.3, 0.6, d);
                Add(layer + "bypass.bypass_scale", 0.3, 0.6, d);
                Add(layer + "bypass_mid.bypass_scale", 0.3, 0.6, d);
                Linear(layer + "self_attn_weights.in_proj", d, (2 * q + p) * h);
                Weight(layer + "self_attn_weights.linear_pos.weight", h * p, c.PosDim);
                foreach (string attention in new[] { "self_attn1", "self_attn2" })
                {
                    Linear(layer + attention + ".in_proj", d, h * v);
                    Linear(layer + attention + ".out_proj", h * v, d);
                }
                foreach (var (name, hidden) in new[] { ("feed_forward1", ff * 3 / 4), ("feed_forward2", ff), ("feed_forward3", ff * 5 / 4) })
                {
                    Linear(layer + name + ".in_proj", d, hidden);
                    Linear(layer + name + ".out_proj", hidden, d);
                }
                Linear(layer + "nonlin_attention.in_proj", d, 3 * nl);
                Linear(layer + "nonlin_attention.out_proj", nl, d);
                foreach (string conv in new[] { "conv_module1", "conv_module2" })
                {
                    Linear(layer + conv + ".in_proj", d, 2 * d);
                    Weight(layer + conv + ".depthwise_conv.causal_conv.weight", d, 1, (k + 1) / 2);
                    Bias(layer + conv + ".depthwise_conv.causal_conv.bias", d);
                    Weight(layer + conv + ".depthwise_conv.chunkwise_conv.weight", d, 1, k);
                    Bias(layer + conv + ".depthwise_conv.chunkwise_conv.bias", d);
                    Add(layer + conv + ".depthwise_conv.chunkwise_conv_scale", 0.2, 0, 2, d, k);
                    Linear(layer + conv + ".out_proj", d, d);
                }
                Add(layer + "norm.log_scale", 0.2, 0);
                Add(layer + "norm.bias", 0.3, 0, d);
            }
        }
        if (c.OutputDownsamplingFactor > 1)
            Add("speechencoder.encoder.downsample_output.bias", 1, 0, c.OutputDownsamplingFactor);
        Linear("speech_proj.0", c.ProjectorInput, c.Hidden);
        Linear("speech_proj.2", c.Hidden, c.OutputDim);
        if (tolerated)
        {
            Add("ln_speech.weight", 0.1, 1, c.ModelDim);
            Bias("ln_speech.bias", c.ModelDim);
            Linear("speechencoder.audio_tagging_proj.1", c.ModelDim, 527);
            Add("speechencoder.mask_emb", 1, 0, c.NumMelBins);
        }
        return list;
    }

    /// <summary>Writes the tensors as a component file in <paramref name="directory"/> and returns its path.</summary>
    public static string Write(string directory, IEnumerable<TensorData> tensors)
    {
        string path = Path.Combine(directory, SpeechEncoder.ComponentFileName);
        SafetensorsWriter.Write(path, tensors);
        return path;
    }

    /// <summary>Fbank rows [frames, mel] of log energies uniform in −7…−1, what the encoder's input looks like in scale.</summary>
    public static float[] Fbank(Random random, int frames, int mel)
    {
        var values = new float[frames * mel];
        for (int i = 0; i < values.Length; i++)
            values[i] = (float)(-4 + 3 * (2 * random.NextDouble() - 1));
        return values;
    }

    /// <summary>Uniform values with the given standard deviation around a center (F32, or BF16 bits).</summary>
    private static TensorData Make(string name, long[] shape, Random random, double std, double center, bool bf16)
    {
        long count = shape.Aggregate(1L, (a, b) => a * b);
        var values = new float[count];
        double half = std * Math.Sqrt(3);
        for (long i = 0; i < count; i++)
            values[i] = (float)(center + half * (2 * random.NextDouble() - 1));
        if (!bf16)
            return new TensorData(name, SafetensorsDtype.F32, shape, MemoryMarshal.AsBytes(values.AsSpan()).ToArray());
        var bits = values.Select(BFloat16.FromSingle).ToArray();
        return new TensorData(name, SafetensorsDtype.BF16, shape, MemoryMarshal.AsBytes(bits.AsSpan()).ToArray());
    }
}
