using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using Ellsa.Kernels.Backend;
using Ellsa.Kernels.Ops.Convolution;
using Ellsa.Kernels.Ops.Depthwise;

namespace Ellsa.Kernels.Cpu;

public sealed unsafe partial class CpuBackend
{
    public void DepthwiseConv(TensorView input, ConvSpec spec, TensorView weight, TensorView? bias, TensorView output)
    {
        DepthwiseConvolution.Check(input, spec, weight, bias, output);
        lock (_gate)
        {
            var job = Job<DepthwiseConvJob>();
            job.Input = Base(input);
            job.Weight = Base(weight);
            job.Bias = bias is { } b ? Base(b) : null;
            job.Output = Base(output);
            (job.LI, job.LW, job.LB, job.LO) = (input.Layout, weight.Layout, bias?.Layout ?? default, output.Layout);
            job.Spec = spec;
            job.Plan();
            _pool.Run(job, job.ChunkCount);
        }
    }
}

/// <summary>
/// Channel-last layouts (channels at unit stride in input and output, as a [frames, channels]
/// activation is) take whole channel rows per position: each tap is one vectorised multiply-add
/// over the channels. Other layouts walk (channel, position) pairs one at a time.
/// </summary>
internal sealed unsafe class DepthwiseConvJob : IParallelWork
{
    private const int PositionsPerChunk = 32;

    public float* Input, Weight, Bias, Output;
    public ViewLayout LI, LW, LB, LO;
    public ConvSpec Spec;
    private bool _channelRows;
    private int _positionChunks;

    public int ChunkCount => _channelRows ? _positionChunks : Spec.Channels * _positionChunks;

    public void Plan()
    {
        _channelRows = LI.S0 == 1 && LO.S0 == 1 && LW.S0 is 0 or 1 && (Bias == null || LB.S0 is 0 or 1);
        _positionChunks = (Spec.Positions + PositionsPerChunk - 1) / PositionsPerChunk;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Execute(int chunk, int worker)
    {
        var s = Spec;
        int taps = DepthwiseConvolution.Taps(s);
        int positionChunk = _channelRows ? chunk : chunk % _positionChunks;
        int first = positionChunk * PositionsPerChunk, end = Math.Min(s.Positions, first + PositionsPerChunk);
        if (!_channelRows)
        {
            int c = chunk / _positionChunks;
            float* w = Weight + LW.Offset + (long)c * LW.S0;
            for (int p = first; p < end; p++)
            {
                float sum = Bias == null ? 0f : Bias[LB.Offset + (long)c * LB.S0];
                for (int t = 0; t < taps; t++)
                {
                    int at = DepthwiseConvolution.TapOffset(s, LI, p, t);
                    if (at >= 0)
                        sum += Input[at + (long)c * LI.S0] * w[(long)t * LW.S1];
                }
                Output[LO.Offset + (long)c * LO.S0 + (long)p * LO.S1] = sum;
            }
            return;
        }

        int channels = s.Channels;
        for (int p = first; p < end; p++)
        {
            var acc = new Span<float>(Output + LO.Offset + (long)p * LO.S1, channels);
            if (Bias == null)
                acc.Clear();
            else if (LB.S0 == 0)
                acc.Fill(Bias[LB.Offset]);
            else
                new ReadOnlySpan<float>(Bias + LB.Offset, channels).CopyTo(acc);
            int ow = p % s.OutW, q = p / s.OutW, oh = q % s.OutH, od = q / s.OutH;
            int d0 = od * s.StrideD - s.PadD0, h0 = oh * s.StrideH - s.PadH0, w0 = ow * s.StrideW - s.PadW0;
            int t = 0;
            for (int i = 0; i < s.KernelD; i++)
            {
                int d = d0 + i * s.DilationD;
                for (int j = 0; j < s.KernelH; j++)
                {
                    int h = h0 + j * s.DilationH;
                    for (int x = 0; x < s.KernelW; x++, t++)
                    {
                        int w = w0 + x * s.DilationW;
                        if (d < 0 || d >= s.InD || h < 0 || h >= s.InH || w < 0 || w >= s.InW)
                            continue;
                        var row = new ReadOnlySpan<float>(Input + LI.Offset + (long)d * LI.S1 + (long)h * LI.S2 + (long)w * LI.S3, channels);
                        float* tap = Weight + LW.Offset + (long)t * LW.S1;
                        if (LW.S0 == 0)
                            TensorPrimitives.MultiplyAdd(row, *tap, acc, acc);
                        else
                            TensorPrimitives.MultiplyAdd(row, new ReadOnlySpan<float>(tap, channels), acc, acc);
                    }
                }
            }
        }
    }
}
