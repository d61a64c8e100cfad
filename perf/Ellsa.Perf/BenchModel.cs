using System.Runtime.CompilerServices;
using Ellsa.Kernels.Backend;
using Ellsa.Kernels.Cpu;
using Ellsa.Kernels.Numerics;
using Ellsa.Runtime.Configuration;
using Ellsa.Runtime.Moe;
using Ellsa.Runtime.Weights;

namespace Ellsa.Perf;

/// <summary>
/// The "bench" model of issue 2: both experts d=2048, 16 layers, 16 heads over 4 KV heads,
/// ff 5632, vocabularies 32000 (speech) and 40000 (vision), random bf16 weights made at run time
/// (nothing is committed). Values are small random bf16 so activations stay finite.
/// </summary>
public static class BenchModel
{
    public static ModelConfig Config(int hidden = 2048, int layers = 16, int heads = 16, int kvHeads = 4, int ff = 5632, int speechVocab = 32000, int visionVocab = 40000)
    {
        var speech = ExpertConfig.ReleasedSpeech with
        {
            HiddenSize = hidden, Layers = layers, Heads = heads, KvHeads = kvHeads, HeadDim = hidden / heads,
            IntermediateSize = ff, VocabSize = speechVocab,
        };
        var vision = ExpertConfig.ReleasedVision with
        {
            HiddenSize = hidden, Layers = layers, Heads = heads, KvHeads = kvHeads, HeadDim = hidden / heads,
            IntermediateSize = ff, VocabSize = visionVocab,
        };
        // Special ids inside the small vocabularies, so the block decoder can run on this model too.
        var tokens = new SpecialTokens
        {
            Bos = 100, SpeechEos = 101, Bot = 102, Eot = 103, Silence = 104, Bop = 105, Eop = 106,
            Boa = 30000, Eoa = 30001, Boi = 30002, Eoi = 30003, Img = 30004, Eof = 30005,
            VisualBase = 31000, VisualCount = 8192, ActionFirst = 27000, ActionLast = 29048, FastBase = 29048,
        };
        return new ModelConfig("(bench)", speech, vision, new EllsaSettings { Tokens = tokens });
    }

    /// <param name="format">q8: quantise every projection and head after making it; bf16-packed: pack them (the embeddings stay bf16, as a <c>--weights</c> load leaves them).</param>
    public static SaMoeModel Create(CpuBackend backend, ModelConfig config, int seed = 1, WeightFormat format = WeightFormat.Bf16) =>
        new(config, backend, CreateWeights(backend, config, seed, format));

    /// <summary>The random weights alone (a model made over them owns and releases them): the llama.cpp side-by-side writes them to a GGUF.</summary>
    public static HostWeights CreateWeights(CpuBackend backend, ModelConfig config, int seed = 1, WeightFormat format = WeightFormat.Bf16)
    {
        var owned = new List<IDisposable>();
        var speech = Expert(config.Speech, "speech", backend, owned, seed, format);
        var vision = Expert(config.Vision, "vision", backend, owned, seed + 1000, format);
        return new HostWeights(speech, vision, owned);
    }

    private static HostExpert Expert(ExpertConfig c, string name, CpuBackend backend, List<IDisposable> owned, int seed, WeightFormat format)
    {
        HostMatrix Project(HostMatrix m) => format switch
        {
            WeightFormat.Q8 => Quantized(m, owned),
            WeightFormat.PackedBf16 => Packed(m, owned),
            _ => m,
        };
        int d = c.HiddenSize;
        double scale = 1 / Math.Sqrt(d);
        var layers = new HostLayer[c.Layers];
        for (int l = 0; l < c.Layers; l++)
        {
            string role = $"{name}.layers.{l}";
            layers[l] = new HostLayer(
                Ones(d), Ones(d),
                Project(Random($"{role}.qkv_proj", c.QueryWidth + 2 * c.KvWidth, d, scale, backend, owned, seed++)),
                null,
                Project(Random($"{role}.o_proj", d, c.QueryWidth, 1 / Math.Sqrt(c.QueryWidth), backend, owned, seed++)),
                Project(Random($"{role}.gate_up_proj", 2 * c.IntermediateSize, d, scale, backend, owned, seed++)),
                Project(Random($"{role}.down_proj", d, c.IntermediateSize, 1 / Math.Sqrt(c.IntermediateSize), backend, owned, seed++)));
        }
        return new HostExpert(
            Random($"{name}.embed", c.VocabSize, d, 1, backend, owned, seed++),
            layers, Ones(d),
            Project(Random($"{name}.head", c.VocabSize, d, scale, backend, owned, seed)));
    }

    /// <summary>The matrix as q8 (its bf16 buffer stays owned: the bench keeps it simple, memory is not measured).</summary>
    private static HostMatrix Quantized(HostMatrix matrix, List<IDisposable> owned) =>
        new(matrix.Name, matrix.Parts.Select(p => Q8Quantization.Quantize(p, "(bench)", matrix.Name, owned)).ToList());

    /// <summary>The matrix packed to 12-bit bf16 (its bf16 buffer stays owned, as for q8).</summary>
    private static HostMatrix Packed(HostMatrix matrix, List<IDisposable> owned) =>
        new(matrix.Name, matrix.Parts.Select(p =>
        {
            var packed = PackedBf16Rows.Pack(p);
            owned.Add(packed);
            return new MatrixPart(packed);
        }).ToList());

    private static float[] Ones(int n) => Enumerable.Repeat(1f, n).ToArray();

    internal static unsafe HostMatrix Random(string name, int rows, int cols, double scale, CpuBackend backend, List<IDisposable> owned, int seed)
    {
        var buffer = new NativeArray<ushort>((long)rows * cols, zero: false);
        owned.Add(buffer);
        backend.Run(new FillJob(buffer.Pointer, (long)rows * cols, (float)scale, seed), 64);
        return new HostMatrix(name, [new MatrixPart(buffer.Pointer, WeightDtype.BF16, rows, cols)]);
    }

    /// <summary>Uniform values in ±√3·scale (unit variance × scale) from a per-chunk xorshift, written by every thread.</summary>
    private sealed unsafe class FillJob(ushort* data, long count, float scale, int seed) : IParallelWork
    {
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Execute(int chunk, int worker)
        {
            long begin = count * chunk / 64, end = count * (chunk + 1) / 64;
            ulong state = (ulong)(seed * 1_000_003L + chunk) * 0x9E3779B97F4A7C15UL | 1;
            float range = scale * 1.7320508f;
            for (long i = begin; i < end; i++)
            {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                float unit = (state >> 40) * (1f / (1 << 24)) * 2 - 1;
                data[i] = BFloat16.FromSingle(unit * range);
            }
        }
    }
}
