using Ellsa.Kernels.Backend;
using Ellsa.Kernels.Ops.Convolution;
using Ellsa.Kernels.Ops.Elementwise;
using Ellsa.Kernels.Ops.Norms;

namespace Ellsa.Runtime.Networks;

/// <summary>A convolution layer: PyTorch's weight [out, in, k…] (flattened to [out, taps]) and optional bias [out].</summary>
public sealed class Conv
{
    private Conv(DeviceMatrix weight, DeviceVector? bias, int inChannels, int outChannels)
    {
        Weight = weight;
        Bias = bias;
        InChannels = inChannels;
        OutChannels = outChannels;
    }

    public DeviceMatrix Weight { get; }
    public DeviceVector? Bias { get; }
    public int InChannels { get; }
    public int OutChannels { get; }

    /// <param name="kernel">The kernel's sizes as the weight stores them: (k) for Conv1d, (kh, kw) for Conv2d, (kd, kh, kw) for Conv3d.</param>
    public static Conv Load(WeightScope scope, int inChannels, int outChannels, int[] kernel, bool bias = true)
    {
        long[] shape = [outChannels, inChannels, .. kernel.Select(k => (long)k)];
        var weight = scope.Matrix("weight", shape);
        return new Conv(weight, bias ? scope.Vector("bias", outChannels) : null, inChannels, outChannels);
    }

    /// <summary>A layer over a weight made at load ([out, taps], e.g. folded from a weight-norm parametrisation).</summary>
    public static Conv FromWeight(DeviceMatrix weight, DeviceVector? bias, int inChannels, int outChannels) =>
        new(weight, bias, inChannels, outChannels);

    /// <summary>output [out, positions] = conv(input [in, D, H, W]) as the spec lays it out (+ residual, of the output's shape).</summary>
    public void Forward(IComputeBackend backend, TensorView input, ConvSpec spec, TensorView output, ConvWorkspace workspace, TensorView? residual = null)
    {
        if (spec.Channels != InChannels)
            throw new ArgumentException($"{Weight.Name}: {spec.Channels} input channels, the layer has {InChannels}");
        backend.Convolve(Weight, Bias, input, spec, output, residual, workspace);
    }
}

/// <summary>GroupNorm over [C, spatial] (PyTorch's nn.GroupNorm on one sample), affine per channel.</summary>
public sealed class GroupNorm(DeviceTensor weight, DeviceTensor bias, int channels, int groups, float eps)
{
    public int Channels => channels;

    public static GroupNorm Load(WeightScope scope, int channels, int groups, float eps)
    {
        if (channels % groups != 0)
            throw new Configuration.ConfigException($"{scope.FullName("weight")}: GroupNorm of {channels} channels in {groups} groups (channels must divide evenly)");
        return new GroupNorm(scope.Tensor("weight", channels), scope.Tensor("bias", channels), channels, groups, eps);
    }

    /// <summary>source and destination: dense [C, spatial] views (they may be the same).</summary>
    public void Forward(INetworkOps backend, TensorView source, TensorView destination) => Forward(backend, source, destination, new Copy());

    /// <summary>The norm, then <paramref name="then"/> on each result in the same pass (GroupNorm then SiLU).</summary>
    public void Forward<TFn>(INetworkOps backend, TensorView source, TensorView destination, TFn then) where TFn : struct, IUnaryFunctor
    {
        int spatial = source.Dim(1);
        var spec = NormSpec.GroupNorm(groups, spatial, eps);
        int width = channels / groups * spatial;
        backend.Normalize(source.Reshape(groups, width), destination.Reshape(groups, width), spec,
            TensorView.Of(weight, channels), TensorView.Of(bias, channels), then);
    }
}

/// <summary>nn.LayerNorm over the last axis of [rows, width] slices, affine per channel.</summary>
public sealed class LayerNorm(DeviceTensor weight, DeviceTensor bias, int width, float eps)
{
    public int Width => width;

    public static LayerNorm Load(WeightScope scope, int width, float eps) =>
        new(scope.Tensor("weight", width), scope.Tensor("bias", width), width, eps);

    /// <summary>Each row of source normalised into destination (they may be the same).</summary>
    public void Forward(INetworkOps backend, TensorSlice source, TensorSlice destination) =>
        backend.Normalize(source, destination, NormSpec.LayerNorm(eps), TensorView.Of(weight, width), TensorView.Of(bias, width));
}

/// <summary>
/// BatchNorm in eval mode, folded at load into a per-channel scale γ/√(var + eps) and shift
/// β − mean·scale (in double, then fp32), applied to [C, rest] views.
/// </summary>
public sealed class ChannelAffine(DeviceTensor scale, DeviceTensor shift, int channels)
{
    public static ChannelAffine LoadBatchNorm(WeightScope scope, int channels, double eps)
    {
        var gamma = scope.Floats("weight", channels);
        var beta = scope.Floats("bias", channels);
        var mean = scope.Floats("running_mean", channels);
        var variance = scope.Floats("running_var", channels);
        scope.Ignore("num_batches_tracked");
        var scale = new float[channels];
        var shift = new float[channels];
        for (int c = 0; c < channels; c++)
        {
            if (!(variance[c] >= 0))
                throw scope.Fail("running_var", $"channel {c} has variance {variance[c]}; a variance is 0 or more");
            double s = gamma[c] / Math.Sqrt(variance[c] + eps);
            scale[c] = (float)s;
            shift[c] = (float)(beta[c] - mean[c] * s);
        }
        return new ChannelAffine(scope.Upload(scale), scope.Upload(shift), channels);
    }

    /// <summary>destination = source · scale[c] + shift[c] over [C, rest] views of one shape.</summary>
    public void Forward(INetworkOps backend, TensorView source, TensorView destination)
    {
        int rest = source.Dim(1);
        var s = TensorView.Of(scale, channels, 1).BroadcastTo(channels, rest);
        var b = TensorView.Of(shift, channels, 1).BroadcastTo(channels, rest);
        backend.Binary(source, s, destination, new Multiply());
        backend.Binary(destination, b, destination, new Add());
    }
}

/// <summary>
/// A network part that consumes a stream in pieces (the speech encoder's blocks, the speech
/// decoder's windows): <see cref="Step"/> takes the next piece and returns what became ready;
/// <see cref="Reset"/> forgets the stream's history.
/// </summary>
public interface IStreamingModule<TInput, TOutput>
{
    TOutput Step(TInput input);
    void Reset();
}

/// <summary>
/// Device tensors for one forward pass, released together at its end: freed, or handed back to the
/// network's <see cref="ScratchPool"/> when it has one (then a tensor's contents start undefined,
/// and every op writing into one writes all of it).
/// </summary>
public sealed class Scratch(IComputeBackend backend, ScratchPool? pool = null) : IDisposable
{
    private readonly List<DeviceTensor> _tensors = [];

    /// <summary>A dense tensor viewed with the given shape.</summary>
    public TensorView Take(params ReadOnlySpan<int> shape)
    {
        long count = 1;
        foreach (int size in shape)
            count *= size;
        return TensorView.Of(TakeMatrix(1, checked((int)Math.Max(1, count))), shape);
    }

    /// <summary>A dense [rows, cols] tensor, for the weight products that take row slices.</summary>
    public DeviceTensor TakeMatrix(int rows, int cols)
    {
        var tensor = pool?.Rent(rows, cols) ?? backend.AllocateTensor(rows, cols);
        _tensors.Add(tensor);
        return tensor;
    }

    public void Dispose()
    {
        backend.Synchronize();
        foreach (var tensor in _tensors)
        {
            if (pool is null)
                tensor.Dispose();
            else
                pool.Return(tensor);
        }
        _tensors.Clear();
    }
}
