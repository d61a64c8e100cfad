using Ellsa.Kernels.Backend;
using Ellsa.Kernels.Cpu.Jobs;
using Ellsa.Kernels.Numerics;

namespace Ellsa.Kernels.Cpu;

/// <summary>The projections with Q8 weights: activations quantised once per product, then int8 dot products on every thread.</summary>
public sealed unsafe partial class CpuBackend
{
    private readonly Q8MatMulJob _q8MatMul = new();
    private readonly Q8Activations _q8Input = new();
    private NativeArray<float>[] _q8Scratch = [];

    /// <summary>The instructions the Q8 products use at this backend's ISA (AVX-VNNI below AVX-512 where present).</summary>
    internal Q8Path Q8Path => Q8Paths.For(Isa);

    private void MatMulQ8(CpuQ8Matrix weight, TensorSlice input, TensorSlice output, DeviceVector? bias, bool accumulate)
    {
        lock (_gate)
        {
            _q8Input.Quantize(At(input), input.Rows, input.Cols, input.Tensor.Cols);
            long need = 4L * Q8Format.BlocksPerRow(weight.Cols);
            if (_q8Scratch.Length != _pool.ThreadCount || _q8Scratch[0].Length < need)
            {
                foreach (var scratch in _q8Scratch)
                    scratch.Dispose();
                _q8Scratch = new NativeArray<float>[_pool.ThreadCount];
                for (int i = 0; i < _q8Scratch.Length; i++)
                    _q8Scratch[i] = new NativeArray<float>(need, zero: false);
            }
            _q8MatMul.Path = Q8Path;
            _q8MatMul.Weight = weight;
            _q8MatMul.Input = _q8Input;
            _q8MatMul.Output = At(output);
            _q8MatMul.OutputStride = output.Tensor.Cols;
            _q8MatMul.Tokens = input.Rows;
            _q8MatMul.Bias = bias is null ? null : ((CpuVector)bias).Storage.Pointer;
            _q8MatMul.Accumulate = accumulate;
            _q8MatMul.Scratch = _q8Scratch;
            _pool.Run(_q8MatMul, _q8MatMul.ChunkCount);
        }
    }

    private void DisposeQ8()
    {
        _q8Input.Dispose();
        foreach (var scratch in _q8Scratch)
            scratch.Dispose();
    }
}
