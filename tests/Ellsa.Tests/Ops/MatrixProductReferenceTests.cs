using Ellsa.Kernels.Backend;
using Ellsa.Kernels.Cpu;
using Ellsa.Kernels.Ops.Products;
using Ellsa.Tests.Gpu.Checks;
using Ellsa.Tests.Support;
using Xunit;

namespace Ellsa.Tests.Ops;

/// <summary>
/// The CPU backend's batched product (its dot-product path for unit-stride K and its strided path)
/// against the double-precision definition on fresh random shapes and layouts, outputs poisoned
/// with NaN first so an element left unwritten fails.
/// </summary>
public sealed class MatrixProductReferenceTests
{
    public static TheoryData<string> Kinds => new(OpChecks.ProductKinds);

    [Theory]
    [MemberData(nameof(Kinds))]
    public void MatchesItsDefinition(string kind)
    {
        using var data = new RandomData(Environment.TickCount ^ kind.GetHashCode());
        using var cpu = new CpuBackend(threads: 2);
        for (int round = 0; round < 8; round++)
        {
            var c = OpChecks.RandomProduct(data, kind);
            var left = data.Values(c.LeftLength, scale: 2f);
            var right = data.Values(c.RightLength);
            using var ta = HostTensors.Upload(cpu, left);
            using var tb = HostTensors.Upload(cpu, right);
            using var ty = HostTensors.Upload(cpu, HostTensors.Poisoned(c.OutputLength));
            var (va, vb, vy) = (c.Left(ta), c.Right(tb), c.Output(ty));
            cpu.MatrixProduct(va, vb, vy, c.Scale);
            var actual = HostTensors.Download(cpu, ty);

            var expected = HostTensors.Poisoned(c.OutputLength);
            MatrixProduct.Reference(left, va.Layout, right, vb.Layout, expected, vy.Layout, c.Scale);
            Assert.DoesNotContain(actual, float.IsNaN);
            double error = Numeric.RelativeL2<float>(actual, expected);
            Assert.True(error < 1e-5, $"{c}: relative L2 {error:E2} (seed {data.Seed})");
        }
    }

    /// <summary>The definition itself on a case worked by hand.</summary>
    [Fact]
    public void ReferenceGivesAHandWorkedProduct()
    {
        // a = [[1, 2], [3, 4]], b = [[1, 0], [1, 1], [0, 2]]: a · bᵀ = [[1, 3, 4], [3, 7, 8]], halved.
        float[] a = [1, 2, 3, 4], b = [1, 0, 1, 1, 0, 2], y = new float[6];
        static ViewLayout Dense(int m, int n)
        {
            var layout = new ViewLayout { Rank = 3 };
            layout.Set(0, 1, m * n);
            layout.Set(1, m, n);
            layout.Set(2, n, 1);
            return layout;
        }
        MatrixProduct.Reference(a, Dense(2, 2), b, Dense(3, 2), y, Dense(2, 3), 0.5f);
        Assert.Equal([0.5f, 1.5f, 2f, 1.5f, 3.5f, 4f], y);
    }

    [Fact]
    public void ShapesThatDisagreeAreRefused()
    {
        using var cpu = new CpuBackend(threads: 1);
        using var t = cpu.AllocateTensor(1, 64);
        var error = Assert.Throws<ArgumentException>(() =>
            cpu.MatrixProduct(TensorView.Of(t, 1, 2, 3), TensorView.At(t, 8, 1, 4, 2), TensorView.At(t, 20, 1, 2, 4), 1f));
        Assert.Contains("shapes disagree", error.Message);
        error = Assert.Throws<ArgumentException>(() =>
            cpu.MatrixProduct(TensorView.Of(t, 1, 2, 3), TensorView.At(t, 8, 1, 4, 3), TensorView.At(t, 20, 1, 1, 4).BroadcastTo(1, 2, 4), 1f));
        Assert.Contains("broadcast", error.Message);
    }
}
