using Ellsa.Kernels.Backend;
using Ellsa.Kernels.Gpu;
using Ellsa.Kernels.Ops.Elementwise;
using Ellsa.Kernels.Ops.Norms;
using Ellsa.Kernels.Ops.Convolution;
using Ellsa.Kernels.Ops.Attention;
using Ellsa.Kernels.Ops.Depthwise;
using Ellsa.Kernels.Ops.TransposedConvolution;
using Ellsa.Kernels.Ops.Products;

namespace Ellsa.Tests.Gpu.Checks;

/// <summary>
/// The general op layer's families on the backend under test against the CPU backend: fresh
/// random N-d shapes, strided, permuted and broadcast operands, destinations poisoned first.
/// </summary>
public static class OpChecks
{
    public static IReadOnlyList<GpuCheck> All { get; } =
    [
        new("ops.elementwise.unary", UnaryFamily),
        new("ops.elementwise.binary", BinaryFamily),
        new("ops.normalize", NormFamily),
        new("ops.convolution", ConvFamily),
        new("ops.depthwise-conv", DepthwiseFamily),
        new("ops.transposed-conv", TransposedConvFamily),
        new("ops.attention", AttentionFamily),
        new("ops.nearest-code", NearestCodeFamily),
        new("ops.matrix-product", ProductFamily),
    ];

    public static readonly string[] ProductKinds = ["dense", "heads", "shared-right", "channel-major"];

    /// <summary>
    /// A random batched product and how its operands lie in [1, n] buffers: dense [B, M, K]; the
    /// heads of [rows, heads·K] activations (the relative-position products); one right operand
    /// shared by every batch entry (stride 0); K along the slow axis. The output covers its buffer,
    /// so an element left unwritten stays NaN.
    /// </summary>
    public sealed record ProductCase(string Kind, int B, int M, int N, int K, float Scale,
        int LeftLength, Func<DeviceTensor, TensorView> Left, int RightLength, Func<DeviceTensor, TensorView> Right, Func<DeviceTensor, TensorView> Output)
    {
        public int OutputLength => B * M * N;
        public override string ToString() => $"{Kind} [{B}, {M}, {K}] · [{B}, {N}, {K}]ᵀ × {Scale}";
    }

    public static ProductCase RandomProduct(RandomData data, string kind)
    {
        int b = data.Next(1, 5), m = data.Next(1, 30), n = data.Next(1, 40), k = data.Next(1, 70);
        float scale = kind == "dense" ? 1f : 1f / MathF.Sqrt(k);
        Func<DeviceTensor, TensorView> output = t => TensorView.Of(t, b, m, n);
        return kind switch
        {
            "heads" => new ProductCase(kind, b, m, n, k, scale,
                m * b * k, t => TensorView.Of(t, m, b, k).Permute(1, 0, 2), n * b * k, t => TensorView.Of(t, n, b, k).Permute(1, 0, 2),
                t => TensorView.Of(t, m, b, n).Permute(1, 0, 2)),
            "shared-right" => new ProductCase(kind, b, m, n, k, scale,
                b * m * k, t => TensorView.Of(t, b, m, k), n * k, t => TensorView.Of(t, n, k).BroadcastTo(b, n, k), output),
            "channel-major" => new ProductCase(kind, b, m, n, k, scale,
                b * k * m, t => TensorView.Of(t, b, k, m).Permute(0, 2, 1), b * k * n, t => TensorView.Of(t, b, k, n).Permute(0, 2, 1), output),
            _ => new ProductCase(kind, b, m, n, k, scale, b * m * k, t => TensorView.Of(t, b, m, k), b * n * k, t => TensorView.Of(t, b, n, k), output),
        };
    }

    public static readonly string[] AttentionKinds = ["full", "gqa-causal", "chunk", "chunk-bias"];

    /// <summary>A random attention: sizes, spec, and whether a score bias is added.</summary>
    public sealed record AttentionCase(int T, int S, int D, int Dv, AttentionSpec Spec, bool Bias);

    public static AttentionCase RandomAttention(RandomData data, string kind)
    {
        int kvHeads = data.Next(1, 3), heads = kvHeads * (kind == "full" ? 1 : data.Next(1, 3));
        int t = data.Next(1, 20), d = data.Next(1, 24), dv = data.Next(1, 24);
        var spec = new AttentionSpec { Heads = heads, KvHeads = kvHeads, Scale = 1f / MathF.Sqrt(d), MaskedScore = float.NegativeInfinity };
        int s = t;
        switch (kind)
        {
            case "gqa-causal":
                spec.Mask = AttentionMask.Causal;
                spec.QueryOffset = data.Next(0, 5);
                s = t + spec.QueryOffset;
                break;
            case "chunk":
            case "chunk-bias":
                spec.Mask = AttentionMask.Chunk;
                spec.ChunkSize = data.Next(1, 6);
                spec.LeftChunks = data.Next(-1, 3);
                spec.QueryOffset = data.Next(0, 8);
                s = t + spec.QueryOffset;
                // Zipformer: no 1/√d, masked scores −1000.
                if (kind == "chunk-bias")
                    (spec.Scale, spec.MaskedScore) = (1f, -1000f);
                break;
        }
        return new AttentionCase(t, s, d, dv, spec, kind == "chunk-bias");
    }

    public static readonly string[] ConvKinds = ["conv1d", "conv1d-causal-dilated", "conv2d", "conv2d-downsample", "conv3d-causal"];

    /// <summary>A random convolution of one kind: the shapes the three networks use, at small sizes.</summary>
    public static (ConvSpec Spec, int OutChannels) RandomConv(RandomData data, string kind)
    {
        int c = data.Next(1, 6), o = data.Next(1, 7);
        var spec = kind switch
        {
            // Lengths at least the widest kernel (7) and dilated span (2·5 + 1), so no draw overhangs.
            "conv1d" => ConvSpec.Conv1d(c, data.Next(7, 30), data.Next(1, 7), stride: data.Next(1, 2), padBefore: data.Next(0, 3), padAfter: data.Next(0, 3)),
            // Causal (left padding only), dilated: HiFT's resblocks and CosyVoice's causal convs.
            "conv1d-causal-dilated" => ConvSpec.Conv1d(c, data.Next(11, 30), 3, dilation: data.Next(1, 5), padBefore: data.Next(2, 10)),
            "conv2d" => ConvSpec.Conv2d(c, data.Next(5, 12), data.Next(5, 12), data.Next(1, 3) * 2 - 1, padding: data.Next(0, 2)),
            // Emu3's downsample: pad right and bottom by one, 3×3 stride 2.
            "conv2d-downsample" => ConvSpec.Conv3d(c, 1, data.Next(3, 12), data.Next(3, 12), (1, 3, 3), (1, 2, 2), (1, 1, 1), (0, 0, 0, 1, 0, 1)),
            // Emu3's temporal convs: time padded 2 in front only, space by the kernel's half.
            _ => Causal3d(data, c),
        };
        return (spec, o);
    }

    /// <summary>A causal 3-D conv whose time kernel never overhangs the front-padded clip (kd ≤ depth + 2).</summary>
    private static ConvSpec Causal3d(RandomData data, int channels)
    {
        int depth = data.Next(1, 4);
        return ConvSpec.Conv3d(channels, depth, data.Next(2, 7), data.Next(2, 7), (data.Next(1, Math.Min(4, depth + 2)), 3, 3),
            (data.Next(1, 2), 1, 1), (1, 1, 1), (2, 0, 1, 1, 1, 1));
    }

    /// <summary>
    /// An input [C, D, H, W] view that is dense, laid out [D, C, H, W] (as Emu3 keeps frames), or with
    /// width and height swapped in memory (no axis with unit stride along a row), chosen at random.
    /// </summary>
    public static (int Length, Func<DeviceTensor, TensorView> Make) ConvInput(RandomData data, ConvSpec spec)
    {
        int length = spec.Channels * spec.InD * spec.InH * spec.InW;
        return data.Next(0, 3) switch
        {
            0 => (length, t => TensorView.Of(t, spec.InD, spec.Channels, spec.InH, spec.InW).Permute(1, 0, 2, 3)),
            1 => (length, t => TensorView.Of(t, spec.Channels, spec.InD, spec.InW, spec.InH).Permute(0, 1, 3, 2)),
            _ => (length, t => TensorView.Of(t, spec.Channels, spec.InD, spec.InH, spec.InW)),
        };
    }

    public static readonly string[] TransposedKinds = ["upsample", "istft", "wide-padding"];

    /// <summary>
    /// A random transposed convolution and its input channels: HiFT's upsampling (kernel ≥ stride,
    /// padding (k − s)/2, several channels), its inverse STFT (one channel, kernel n_fft, stride hop,
    /// padding n_fft/2) and any padding up to the kernel's reach (outputs that see few inputs).
    /// </summary>
    public static (OverlapAddSpec Spec, int InChannels) RandomTransposed(RandomData data, string kind)
    {
        switch (kind)
        {
            case "upsample":
            {
                int stride = data.Next(1, 8), kernel = stride + 2 * data.Next(0, 4);
                return (OverlapAddSpec.Create(data.Next(1, 9), data.Next(1, 30), kernel, stride, (kernel - stride) / 2), data.Next(1, 12));
            }
            case "istft":
            {
                int nfft = 2 * data.Next(2, 12), hop = data.Next(1, nfft / 2);
                return (OverlapAddSpec.Create(1, data.Next(nfft / hop + 1, 60), nfft, hop, nfft / 2), nfft + 2);
            }
            default:
            {
                int stride = data.Next(1, 5), kernel = data.Next(1, 9), length = data.Next(2, 20);
                int padding = Math.Max(0, Math.Min(data.Next(0, kernel + 2), ((length - 1) * stride + kernel - 1) / 2));
                return (OverlapAddSpec.Create(data.Next(1, 5), length, kernel, stride, padding), data.Next(1, 6));
            }
        }
    }

    /// <summary>An input [in, L] view: dense, or laid out [L, in] as rows of frames are.</summary>
    public static Func<DeviceTensor, TensorView> TransposedInput(RandomData data, int inChannels, int length) => data.Chance()
        ? t => TensorView.Of(t, inChannels, length)
        : t => TensorView.Of(t, length, inChannels).Permute(1, 0);

    public static readonly string[] DepthwiseKinds = ["conv2d-channel-last", "conv1d-chunks", "conv1d-causal", "downsample-shared-kernel", "conv3d-channel-major"];

    /// <summary>
    /// A random depthwise convolution and how its operands lie in [1, n] buffers: the layouts the
    /// speech encoder uses (channel-last activations, chunks as an axis of a frame view, one kernel
    /// shared by every channel) and a dense channel-major 3-D case with strides and dilations.
    /// Every output view covers its whole buffer, so an element left unwritten stays NaN.
    /// </summary>
    public sealed record DepthwiseCase(string Kind, ConvSpec Spec, bool Bias,
        int InputLength, Func<DeviceTensor, TensorView> Input, int WeightLength, Func<DeviceTensor, TensorView> Weight,
        int OutputLength, Func<DeviceTensor, TensorView> Output)
    {
        public override string ToString() => $"{Kind} {Spec}{(Bias ? " + bias" : "")}";
    }

    public static DepthwiseCase RandomDepthwise(RandomData data, string kind)
    {
        int c = data.Next(1, 40);
        // Channel-last: an [positions, C] buffer seen as [C, positions].
        static Func<DeviceTensor, TensorView> ChannelLastOutput(int channels, int positions) =>
            t => TensorView.Of(t, positions, channels).Permute(1, 0);
        // Weights stored [taps, C] (channels at unit stride, as the encoder uploads them) or [C, taps].
        Func<DeviceTensor, TensorView> Weights(int taps, bool transposed) => transposed
            ? t => TensorView.Of(t, taps, c).Permute(1, 0)
            : t => TensorView.Of(t, c, taps);
        bool transposedWeights = data.Chance(0.7);
        switch (kind)
        {
            case "conv2d-channel-last":
            {
                int k = data.Next(0, 3) * 2 + 1, h = data.Next(k, k + 8), w = data.Next(k, k + 6);
                var spec = ConvSpec.Conv3d(c, 1, h, w, (1, k, k), (1, 1, 1), (1, 1, 1), (0, 0, data.Next(0, k / 2), data.Next(0, k / 2), k / 2, k / 2));
                return new DepthwiseCase(kind, spec, data.Chance(), h * w * c, t => TensorView.Of(t, 1, h, w, c).Permute(3, 0, 1, 2),
                    k * k * c, Weights(k * k, transposedWeights), spec.Positions * c, ChannelLastOutput(c, spec.Positions));
            }
            case "conv1d-chunks":
            {
                // Frames [rows, C]; chunks of `size` frames after `skip` leading frames; zero padding inside each chunk.
                int k = data.Next(0, 4) * 2 + 1, size = data.Next(1, 9), chunks = data.Next(1, 4), skip = data.Next(0, 3);
                var spec = ConvSpec.Conv3d(c, chunks, 1, size, (1, 1, k), (1, 1, 1), (1, 1, 1), (0, 0, 0, 0, k / 2, k / 2));
                int rows = skip + chunks * size;
                TensorView Input(DeviceTensor t)
                {
                    var layout = new ViewLayout { Rank = 4, Offset = skip * c };
                    layout.Set(0, c, 1);
                    layout.Set(1, chunks, size * c);
                    layout.Set(2, 1, 0);
                    layout.Set(3, size, c);
                    return new TensorView(t, layout);
                }
                return new DepthwiseCase(kind, spec, data.Chance(), rows * c, Input, k * c, Weights(k, transposedWeights),
                    spec.Positions * c, ChannelLastOutput(c, spec.Positions));
            }
            case "conv1d-causal":
            {
                int k = data.Next(1, 9), length = data.Next(k, k + 20);
                var spec = ConvSpec.Conv1d(c, length, k);
                return new DepthwiseCase(kind, spec, data.Chance(), length * c, t => TensorView.Of(t, 1, 1, length, c).Permute(3, 0, 1, 2),
                    k * c, Weights(k, transposedWeights), spec.Positions * c, ChannelLastOutput(c, spec.Positions));
            }
            case "downsample-shared-kernel":
            {
                int factor = data.Next(1, 8), groups = data.Next(1, 6);
                var spec = ConvSpec.Conv1d(c, factor * groups, factor, stride: factor);
                return new DepthwiseCase(kind, spec, false, factor * groups * c, t => TensorView.Of(t, 1, 1, factor * groups, c).Permute(3, 0, 1, 2),
                    factor, t => TensorView.Of(t, 1, factor).BroadcastTo(c, factor), groups * c, ChannelLastOutput(c, groups));
            }
            default:
            {
                int depth = data.Next(1, 4), h = data.Next(5, 9), w = data.Next(5, 9);
                (int D, int H, int W) kernel = (data.Next(1, depth), data.Next(1, 3), data.Next(1, 3));
                (int D, int H, int W) dilation = (1, data.Next(1, 2), data.Next(1, 2));
                var spec = ConvSpec.Conv3d(c, depth, h, w, kernel, (1, data.Next(1, 2), data.Next(1, 2)), dilation,
                    (data.Next(0, 1), 0, data.Next(0, 2), data.Next(0, 2), data.Next(0, 2), data.Next(0, 2)));
                int taps = kernel.D * kernel.H * kernel.W;
                return new DepthwiseCase(kind, spec, data.Chance(), c * depth * h * w, t => TensorView.Of(t, c, depth, h, w),
                    taps * c, Weights(taps, false), c * spec.Positions, t => TensorView.Of(t, c, spec.Positions));
            }
        }
    }

    /// <summary>A random normalisation: kind, rows (strided, at an offset) and the parameters it reads.</summary>
    public sealed record NormCase(string Name, NormSpec Spec, int Rows, int Width, int RowStride, int Offset, bool Weight, bool Bias)
    {
        public int Parameters => Normalization.ParameterCount(Spec, Width);
        public int Length => Offset + Rows * RowStride;
    }

    /// <param name="wide">Rows of thousands of elements and channels of hundreds (the image tokenizer's GroupNorms, scaled down).</param>
    public static NormCase RandomNorm(RandomData data, string kind, bool wide = false)
    {
        int rows = data.Next(1, 12), width = wide ? data.Next(300, 9000) : data.Next(1, 300);
        NormSpec spec;
        switch (kind)
        {
            case "layer-norm":
                spec = NormSpec.LayerNorm(1e-5f);
                break;
            case "rms-norm":
                spec = NormSpec.RmsNorm(1e-6f);
                break;
            case "group-norm":
                // [N, C, spatial] as [N·G, C/G·spatial] rows.
                int groups = data.Next(1, 4), perGroup = data.Next(1, 3), spatial = wide ? data.Next(40, 3000) : data.Next(1, 40);
                rows = data.Next(1, 3) * groups;
                width = perGroup * spatial;
                spec = NormSpec.GroupNorm(groups, spatial, 1e-6f);
                break;
            default:
                spec = NormSpec.BiasNorm(MathF.Exp((float)(data.Random.NextDouble() - 0.5)));
                break;
        }
        bool bias = kind == "bias-norm" || data.Chance();
        bool weight = kind != "bias-norm" && data.Chance(0.8);
        return new NormCase(kind, spec, rows, width, width + data.Next(0, 3), data.Next(0, 3), weight, bias);
    }

    public static readonly string[] NormKinds = ["layer-norm", "rms-norm", "group-norm", "bias-norm"];

    /// <summary>One functor: how a backend runs it over views, and the double-precision reference over host buffers.</summary>
    public sealed record UnaryEntry(string Name, Action<INetworkOps, TensorView, TensorView> Run,
        Action<float[], ViewLayout, float[], ViewLayout> Reference);

    public sealed record BinaryEntry(string Name, Action<INetworkOps, TensorView, TensorView, TensorView> Run,
        Action<float[], ViewLayout, float[], ViewLayout, float[], ViewLayout> Reference);

    private static UnaryEntry Unary<TFn>(string name, TFn fn) where TFn : struct, IUnaryFunctor =>
        new(name, (b, x, y) => b.Unary(x, y, fn), (x, lx, y, ly) => Elementwise.ReferenceUnary(x, lx, y, ly, fn));

    private static BinaryEntry Binary<TFn>(string name, TFn fn) where TFn : struct, IBinaryFunctor =>
        new(name, (b, x, z, y) => b.Binary(x, z, y, fn), (x, lx, z, lz, y, ly) => Elementwise.ReferenceBinary(x, lx, z, lz, y, ly, fn));

    /// <summary>Every unary functor, with parameters where it has them.</summary>
    public static IReadOnlyList<UnaryEntry> UnaryFunctors { get; } =
    [
        Unary("copy", new Copy()),
        Unary("constant", new Constant(0.5f)),
        Unary("affine", new Affine(-1.5f, 0.25f)),
        Unary("relu", new Relu()),
        Unary("leaky-relu", new LeakyRelu(0.1f)),
        Unary("sigmoid", new Sigmoid()),
        Unary("silu", new Silu()),
        Unary("tanh", new Tanh()),
        Unary("gelu", new Gelu()),
        Unary("mish", new Mish()),
        Unary("swoosh-l", new SwooshL()),
        Unary("swoosh-r", new SwooshR()),
        Unary("clamp", new Clamp(-0.99f, 0.99f)),
        Unary("elu", new Elu()),
    ];

    public static IReadOnlyList<BinaryEntry> BinaryFunctors { get; } =
    [
        Binary("add", new Add()),
        Binary("subtract", new Subtract()),
        Binary("multiply", new Multiply()),
        Binary("snake", new Snake()),
        Binary("divide", new Divide()),
        Binary("polar-real", new PolarReal(100f)),
        Binary("polar-imag", new PolarImag(100f)),
    ];

    /// <summary>First operands: the polar functors' log-magnitudes reach past their cap (e⁶ > 100), the rest span ±3.</summary>
    public static float[] FirstOperand(RandomData data, string name, int length) =>
        name.StartsWith("polar", StringComparison.Ordinal) ? data.Values(length, scale: 6f) : data.Values(length, scale: 3f);

    /// <summary>Second operands: Snake's α is a positive per-channel scale and a divisor stays away from 0; the rest span the functors' interesting range.</summary>
    public static float[] SecondOperand(RandomData data, string name, int length) => name switch
    {
        "snake" => data.Values(length, scale: 0.9f, center: 1f),
        "divide" => data.Values(length, scale: 1f, center: 2f),
        _ => data.Values(length, scale: 3f),
    };

    private static float[] NaNs(int length)
    {
        var values = new float[length];
        Array.Fill(values, float.NaN);
        return values;
    }

    private static void NormFamily(BackendFactory create, int seed)
    {
        using var data = new RandomData(seed);
        using var pair = new BackendPair(create(IlgpuOptions.Default), data);
        foreach (string kind in NormKinds)
        {
            var c = RandomNorm(data, kind);
            var x = pair.Tensor(1, c.Length, data.Values(c.Length, scale: 2f, center: 0.3f));
            var y = pair.Tensor(1, c.Length, NaNs(c.Length));
            var weight = pair.Tensor(1, c.Parameters, data.Values(c.Parameters, scale: 0.5f, center: 1f));
            var bias = pair.Tensor(1, c.Parameters, data.Values(c.Parameters, scale: 0.5f));
            TensorView Rows(DeviceTensor t) => TensorView.At(t, c.Offset, c.Rows, c.RowStride).Slice(1, 0, c.Width);
            TensorView? Param(DeviceTensor t, bool present) => present ? TensorView.Of(t, c.Parameters) : null;
            // Half the time followed by SiLU in the same pass, as the image tokenizer's blocks run it.
            if (data.Chance())
            {
                pair.Gpu.Normalize(Rows(x.Gpu), Rows(y.Gpu), c.Spec, Param(weight.Gpu, c.Weight), Param(bias.Gpu, c.Bias), new Silu());
                pair.Cpu.Normalize(Rows(x.Cpu), Rows(y.Cpu), c.Spec, Param(weight.Cpu, c.Weight), Param(bias.Cpu, c.Bias), new Silu());
            }
            else
            {
                pair.Gpu.Normalize(Rows(x.Gpu), Rows(y.Gpu), c.Spec, Param(weight.Gpu, c.Weight), Param(bias.Gpu, c.Bias));
                pair.Cpu.Normalize(Rows(x.Cpu), Rows(y.Cpu), c.Spec, Param(weight.Cpu, c.Weight), Param(bias.Cpu, c.Bias));
            }
            pair.CompareWritten($"{c}", y.Gpu.All, y.Cpu.All, 1e-5);
        }
    }

    private static void ConvFamily(BackendFactory create, int seed)
    {
        using var data = new RandomData(seed);
        using var pair = new BackendPair(create(IlgpuOptions.Default), data);
        using var gpuWork = new ConvWorkspace(pair.Gpu, maxColumnFloats: 200);
        using var cpuWork = new ConvWorkspace(pair.Cpu, maxColumnFloats: 200);
        foreach (string kind in ConvKinds)
        {
            var (spec, outChannels) = RandomConv(data, kind);
            var (length, input) = ConvInput(data, spec);
            var x = pair.Tensor(1, length);
            var weight = pair.Matrix(data.Matrix("conv", outChannels, spec.Taps));
            var bias = data.Chance() ? pair.Vector(data.Values(outChannels)) : default;
            int outputs = outChannels * spec.Positions;
            var y = pair.Tensor(1, outputs, NaNs(outputs));
            // The residual (the resnet block's skip) in the product's epilogue on the CPU, fused into the layout change on the GPU.
            var r = data.Chance() ? pair.Tensor(1, outputs) : default;
            TensorView? Residual(DeviceTensor? t) => t is null ? null : TensorView.Of(t, outChannels, spec.Positions);
            pair.Gpu.Convolve(weight.Gpu, bias.Gpu, input(x.Gpu), spec, TensorView.Of(y.Gpu, outChannels, spec.Positions), Residual(r.Gpu), gpuWork);
            pair.Cpu.Convolve(weight.Cpu, bias.Cpu, input(x.Cpu), spec, TensorView.Of(y.Cpu, outChannels, spec.Positions), Residual(r.Cpu), cpuWork);
            pair.Compare($"{kind} {spec} → {outChannels}", y.Gpu.All, y.Cpu.All, 1e-5);
        }
    }

    private static void DepthwiseFamily(BackendFactory create, int seed)
    {
        using var data = new RandomData(seed);
        using var pair = new BackendPair(create(IlgpuOptions.Default), data);
        foreach (string kind in DepthwiseKinds)
        {
            var c = RandomDepthwise(data, kind);
            var x = pair.Tensor(1, c.InputLength);
            var w = pair.Tensor(1, c.WeightLength);
            var b = pair.Tensor(1, c.Spec.Channels);
            var y = pair.Tensor(1, c.OutputLength, NaNs(c.OutputLength));
            TensorView? Bias(DeviceTensor t) => c.Bias ? TensorView.Of(t, c.Spec.Channels) : null;
            pair.Gpu.DepthwiseConv(c.Input(x.Gpu), c.Spec, c.Weight(w.Gpu), Bias(b.Gpu), c.Output(y.Gpu));
            pair.Cpu.DepthwiseConv(c.Input(x.Cpu), c.Spec, c.Weight(w.Cpu), Bias(b.Cpu), c.Output(y.Cpu));
            pair.Compare($"{c}", y.Gpu.All, y.Cpu.All, 1e-5);
        }
    }

    /// <summary>Transposed convolutions in chunks of outputs (a small workspace), bias or not, with an activation on the input copy.</summary>
    private static void TransposedConvFamily(BackendFactory create, int seed)
    {
        using var data = new RandomData(seed);
        using var pair = new BackendPair(create(IlgpuOptions.Default), data);
        using var gpuWork = new ConvWorkspace(pair.Gpu, maxColumnFloats: 200);
        using var cpuWork = new ConvWorkspace(pair.Cpu, maxColumnFloats: 200);
        foreach (string kind in TransposedKinds)
        {
            var (spec, inChannels) = RandomTransposed(data, kind);
            var input = TransposedInput(data, inChannels, spec.InLength);
            var x = pair.Tensor(1, inChannels * spec.InLength);
            var weight = pair.Matrix(data.Matrix("ups", spec.Columns, inChannels));
            var bias = pair.Tensor(1, spec.Channels);
            bool hasBias = data.Chance();
            int outputs = spec.Channels * spec.OutLength;
            var y = pair.Tensor(1, outputs, NaNs(outputs));
            TensorView? Bias(DeviceTensor t) => hasBias ? TensorView.Of(t, spec.Channels) : null;
            TransposedConvolution.Forward(pair.Gpu, weight.Gpu, Bias(bias.Gpu), input(x.Gpu), spec, TensorView.Of(y.Gpu, spec.Channels, spec.OutLength), gpuWork, new LeakyRelu(0.1f));
            TransposedConvolution.Forward(pair.Cpu, weight.Cpu, Bias(bias.Cpu), input(x.Cpu), spec, TensorView.Of(y.Cpu, spec.Channels, spec.OutLength), cpuWork, new LeakyRelu(0.1f));
            pair.Compare($"transposed conv {kind} {spec} from {inChannels}", y.Gpu.All, y.Cpu.All, 1e-5);

            // The overlap-add alone over a broadcast column (the iSTFT's window envelope).
            var taps = pair.Tensor(1, spec.Columns);
            var envelope = pair.Tensor(1, outputs, NaNs(outputs));
            TensorView Spread(DeviceTensor t) => TensorView.Of(t, 1, spec.Columns).BroadcastTo(spec.InLength, spec.Columns);
            pair.Gpu.OverlapAdd(Spread(taps.Gpu), spec, 0, 0, null, TensorView.Of(envelope.Gpu, spec.Channels, spec.OutLength));
            pair.Cpu.OverlapAdd(Spread(taps.Cpu), spec, 0, 0, null, TensorView.Of(envelope.Cpu, spec.Channels, spec.OutLength));
            pair.Compare($"overlap-add of a broadcast column {spec}", envelope.Gpu.All, envelope.Cpu.All, 1e-5);
        }
    }

    private static void AttentionFamily(BackendFactory create, int seed)
    {
        using var data = new RandomData(seed);
        using var pair = new BackendPair(create(IlgpuOptions.Default), data);
        foreach (string kind in AttentionKinds)
        {
            var c = RandomAttention(data, kind);
            int h = c.Spec.Heads, hk = c.Spec.KvHeads;
            var q = pair.Tensor(1, c.T * h * c.D);
            // Keys and values interleaved in one [S, Hk, d + dv] buffer: strided views, as a fused projection leaves them.
            var kv = pair.Tensor(1, c.S * hk * (c.D + c.Dv));
            var bias = pair.Tensor(1, h * c.T * c.S);
            var y = pair.Tensor(1, c.T * h * c.Dv, NaNs(c.T * h * c.Dv));
            void Run(INetworkOps backend, DeviceTensor tq, DeviceTensor tkv, DeviceTensor tb, DeviceTensor ty)
            {
                var both = TensorView.Of(tkv, c.S, hk, c.D + c.Dv);
                backend.Attention(TensorView.Of(tq, c.T, h, c.D), both.Slice(2, 0, c.D), both.Slice(2, c.D, c.Dv), TensorView.Of(ty, c.T, h, c.Dv),
                    c.Spec, c.Bias ? TensorView.Of(tb, h, c.T, c.S) : null);
            }
            Run(pair.Gpu, q.Gpu, kv.Gpu, bias.Gpu, y.Gpu);
            Run(pair.Cpu, q.Cpu, kv.Cpu, bias.Cpu, y.Cpu);
            pair.Compare($"attention {kind} {c}", y.Gpu.All, y.Cpu.All, 1e-5);
        }
    }

    private static void ProductFamily(BackendFactory create, int seed)
    {
        using var data = new RandomData(seed);
        using var pair = new BackendPair(create(IlgpuOptions.Default), data);
        foreach (string kind in ProductKinds)
        {
            var c = RandomProduct(data, kind);
            var a = pair.Tensor(1, c.LeftLength);
            var b = pair.Tensor(1, c.RightLength);
            var y = pair.Tensor(1, c.OutputLength, NaNs(c.OutputLength));
            pair.Gpu.MatrixProduct(c.Left(a.Gpu), c.Right(b.Gpu), c.Output(y.Gpu), c.Scale);
            pair.Cpu.MatrixProduct(c.Left(a.Cpu), c.Right(b.Cpu), c.Output(y.Cpu), c.Scale);
            pair.Compare($"{c}", y.Gpu.All, y.Cpu.All, 1e-5);
        }
    }

    /// <summary>The same products and norms on both backends, with planted ties: the codes must be identical.</summary>
    private static void NearestCodeFamily(BackendFactory create, int seed)
    {
        using var data = new RandomData(seed);
        using var pair = new BackendPair(create(IlgpuOptions.Default), data);
        int rows = data.Next(1, 40), codes = data.Next(1, 700);
        var products = data.Values(rows * codes);
        var norms = data.Values(codes, scale: 1f, center: 1.5f);
        for (int r = 0; r < rows; r++)
        {
            // Copy the row's best code to a later index: a tie the lowest index must win.
            int best = Enumerable.Range(0, codes).MinBy(c => norms[c] - 2 * products[r * codes + c]);
            int later = data.Next(best, codes - 1);
            norms[later] = norms[best];
            products[r * codes + later] = products[r * codes + best];
        }
        var p = pair.Tensor(rows, codes, products);
        var n = pair.Tensor(1, codes, norms);
        var gpu = new int[rows];
        var cpu = new int[rows];
        pair.Gpu.NearestCodes(p.Gpu.All, TensorView.Of(n.Gpu, codes), gpu);
        pair.Cpu.NearestCodes(p.Cpu.All, TensorView.Of(n.Cpu, codes), cpu);
        for (int r = 0; r < rows; r++)
        {
            if (gpu[r] != cpu[r])
                throw new CheckFailedException($"nearest code of row {r} of {rows}×{codes}: gpu {gpu[r]}, cpu {cpu[r]} (seed {data.Seed})");
        }
    }

    private static void UnaryFamily(BackendFactory create, int seed)
    {
        using var data = new RandomData(seed);
        using var pair = new BackendPair(create(IlgpuOptions.Default), data);
        foreach (var (name, run, _) in UnaryFunctors)
        {
            var shape = RandomViews.Shape(data);
            var (sourceLength, source) = RandomViews.Any(data, shape, allowBroadcast: true);
            var (destinationLength, destination) = RandomViews.Any(data, shape, allowBroadcast: false);
            var x = pair.Tensor(1, sourceLength, data.Values(sourceLength, scale: 6f));
            var y = pair.Tensor(1, destinationLength, NaNs(destinationLength));
            run(pair.Gpu, source(x.Gpu), destination(y.Gpu));
            run(pair.Cpu, source(x.Cpu), destination(y.Cpu));
            pair.CompareWritten($"unary {name} over {destination(y.Cpu)}", y.Gpu.All, y.Cpu.All, 1e-5);
        }
    }

    private static void BinaryFamily(BackendFactory create, int seed)
    {
        using var data = new RandomData(seed);
        using var pair = new BackendPair(create(IlgpuOptions.Default), data);
        foreach (var (name, run, _) in BinaryFunctors)
        {
            var shape = RandomViews.Shape(data);
            var (aLength, a) = RandomViews.Any(data, shape, allowBroadcast: true);
            var (bLength, b) = RandomViews.Any(data, shape, allowBroadcast: true);
            var (destinationLength, destination) = RandomViews.Any(data, shape, allowBroadcast: false);
            var left = pair.Tensor(1, aLength, FirstOperand(data, name, aLength));
            var right = pair.Tensor(1, bLength, SecondOperand(data, name, bLength));
            var y = pair.Tensor(1, destinationLength, NaNs(destinationLength));
            run(pair.Gpu, a(left.Gpu), b(right.Gpu), destination(y.Gpu));
            run(pair.Cpu, a(left.Cpu), b(right.Cpu), destination(y.Cpu));
            pair.CompareWritten($"binary {name} over {destination(y.Cpu)}", y.Gpu.All, y.Cpu.All, 1e-5);
        }
    }
}
