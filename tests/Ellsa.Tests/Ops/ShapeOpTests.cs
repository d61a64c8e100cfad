using Ellsa.Kernels.Backend;
using Ellsa.Kernels.Cpu;
using Ellsa.Kernels.Ops.Shapes;
using Ellsa.Tests.Gpu.Checks;
using Xunit;

namespace Ellsa.Tests.Ops;

/// <summary>Shape operations on the CPU backend against plain index arithmetic on host arrays, fresh random sizes.</summary>
public sealed class ShapeOpTests : IDisposable
{
    private readonly RandomData _data = new(Environment.TickCount);
    private readonly CpuBackend _cpu = new(threads: 2);

    [Fact]
    public void PermuteMovesEveryElement()
    {
        int a = _data.Next(1, 5), b = _data.Next(1, 5), c = _data.Next(1, 5);
        var x = _data.Values(a * b * c);
        var y = Run(x, a * b * c, (src, dst) => Shapes.Permute(_cpu, TensorView.Of(src, a, b, c), TensorView.Of(dst, c, a, b), 2, 0, 1));
        for (int i = 0; i < a; i++)
            for (int j = 0; j < b; j++)
                for (int k = 0; k < c; k++)
                    Assert.Equal(x[(i * b + j) * c + k], y[(k * a + i) * b + j]);
    }

    [Fact]
    public void NearestUpsamplingRepeatsEachPixel()
    {
        int ch = _data.Next(1, 3), h = _data.Next(1, 6), w = _data.Next(1, 6), f = _data.Next(2, 3);
        var x = _data.Values(ch * h * w);
        var y = Run(x, ch * h * f * w * f, (src, dst) =>
            Shapes.UpsampleNearest(_cpu, TensorView.Of(src, ch, h, w), TensorView.Of(dst, ch, h * f, w * f), axes: 2, factor: f));
        for (int c = 0; c < ch; c++)
            for (int i = 0; i < h * f; i++)
                for (int j = 0; j < w * f; j++)
                    Assert.Equal(x[(c * h + i / f) * w + j / f], y[(c * h * f + i) * w * f + j]);
    }

    [Fact]
    public void ConcatLaysThePartsSideBySide()
    {
        int rows = _data.Next(1, 4), left = _data.Next(1, 5), right = _data.Next(1, 5);
        var x = _data.Values(rows * (left + right));
        var y = Run(x, rows * (left + right), (src, dst) =>
            Shapes.Concat(_cpu, 1, TensorView.Of(dst, rows, left + right),
                TensorView.At(src, 0, rows, left), TensorView.At(src, rows * left, rows, right)));
        for (int r = 0; r < rows; r++)
        {
            for (int j = 0; j < left; j++)
                Assert.Equal(x[r * left + j], y[r * (left + right) + j]);
            for (int j = 0; j < right; j++)
                Assert.Equal(x[rows * left + r * right + j], y[r * (left + right) + left + j]);
        }
    }

    [Theory]
    [InlineData(PadMode.Zero)]
    [InlineData(PadMode.Replicate)]
    [InlineData(PadMode.Reflect)]
    public void PaddingMatchesPyTorchsModes(PadMode mode)
    {
        int rows = _data.Next(1, 3), n = _data.Next(4, 9), before = _data.Next(0, 3), after = _data.Next(0, 3);
        var x = _data.Values(rows * n);
        int width = before + n + after;
        var y = Run(x, rows * width, (src, dst) =>
            Shapes.Pad(_cpu, TensorView.Of(src, rows, n), TensorView.Of(dst, rows, width), axis: 1, before, after, mode));
        for (int r = 0; r < rows; r++)
        {
            for (int j = 0; j < width; j++)
            {
                int i = j - before;
                float expected = i >= 0 && i < n ? x[r * n + i] : mode switch
                {
                    PadMode.Zero => 0f,
                    PadMode.Replicate => x[r * n + Math.Clamp(i, 0, n - 1)],
                    _ => x[r * n + (i < 0 ? -i : 2 * (n - 1) - i)],
                };
                Assert.Equal(expected, y[r * width + j]);
            }
        }
    }

    public void Dispose()
    {
        _cpu.Dispose();
        _data.Dispose();
    }

    private float[] Run(float[] input, int outputLength, Action<DeviceTensor, DeviceTensor> op)
    {
        using var src = _cpu.AllocateTensor(1, input.Length);
        _cpu.Upload(input, src.All);
        using var dst = _cpu.AllocateTensor(1, outputLength);
        _cpu.Upload(Enumerable.Repeat(float.NaN, outputLength).ToArray(), dst.All);
        op(src, dst);
        var result = new float[outputLength];
        _cpu.Download(dst.All, result);
        return result;
    }
}
