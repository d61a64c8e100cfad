using Ellsa.Kernels.Backend;
using Ellsa.Kernels.Cpu;
using Ellsa.Kernels.Ops.Elementwise;
using Ellsa.Tests.Gpu.Checks;
using Xunit;

namespace Ellsa.Tests.Ops;

/// <summary>
/// The CPU backend's elementwise family against the double-precision definitions, on fresh random
/// N-d views (strided, permuted, broadcast), every functor. The GPU kernels are held to the CPU
/// backend in <see cref="OpChecks"/>.
/// </summary>
public sealed class ElementwiseReferenceTests
{
    public static TheoryData<string> Unaries => new(OpChecks.UnaryFunctors.Select(f => f.Name));
    public static TheoryData<string> Binaries => new(OpChecks.BinaryFunctors.Select(f => f.Name));

    [Theory]
    [MemberData(nameof(Unaries))]
    public void UnaryMatchesItsDefinition(string name)
    {
        var entry = OpChecks.UnaryFunctors.Single(f => f.Name == name);
        using var data = new RandomData(Environment.TickCount ^ name.GetHashCode());
        using var cpu = new CpuBackend(threads: 2);
        for (int round = 0; round < 6; round++)
        {
            var shape = RandomViews.Shape(data, maxSize: round == 0 ? 200 : 9, maxRank: round == 0 ? 1 : 4);
            var (sourceLength, source) = RandomViews.Any(data, shape, allowBroadcast: true);
            var (destinationLength, destination) = RandomViews.Any(data, shape, allowBroadcast: false);
            var x = data.Values(sourceLength, scale: 8f);
            using var xt = HostTensors.Upload(cpu, x);
            using var yt = HostTensors.Upload(cpu, HostTensors.Poisoned(destinationLength));
            var xv = source(xt);
            var yv = destination(yt);
            entry.Run(cpu, xv, yv);

            var expected = HostTensors.Poisoned(destinationLength);
            entry.Reference(x, xv.Layout, expected, yv.Layout);
            AssertClose($"{name} over {yv} (seed {data.Seed})", expected, HostTensors.Download(cpu, yt));
        }
    }

    [Theory]
    [MemberData(nameof(Binaries))]
    public void BinaryMatchesItsDefinition(string name)
    {
        var entry = OpChecks.BinaryFunctors.Single(f => f.Name == name);
        using var data = new RandomData(Environment.TickCount ^ name.GetHashCode());
        using var cpu = new CpuBackend(threads: 2);
        for (int round = 0; round < 6; round++)
        {
            var shape = RandomViews.Shape(data);
            var (aLength, a) = RandomViews.Any(data, shape, allowBroadcast: true);
            var (bLength, b) = RandomViews.Any(data, shape, allowBroadcast: true);
            var (destinationLength, destination) = RandomViews.Any(data, shape, allowBroadcast: false);
            var av = OpChecks.FirstOperand(data, name, aLength);
            var bv = OpChecks.SecondOperand(data, name, bLength);
            using var at = HostTensors.Upload(cpu, av);
            using var bt = HostTensors.Upload(cpu, bv);
            using var yt = HostTensors.Upload(cpu, HostTensors.Poisoned(destinationLength));
            var y = destination(yt);
            var (left, right) = (a(at), b(bt));
            entry.Run(cpu, left, right, y);

            var expected = HostTensors.Poisoned(destinationLength);
            entry.Reference(av, left.Layout, bv, right.Layout, expected, y.Layout);
            AssertClose($"{name} over {y} (seed {data.Seed})", expected, HostTensors.Download(cpu, yt));
        }
    }

    /// <summary>In place over a dense tensor (how the networks apply activations): the vectorised CPU runs must read before they write.</summary>
    [Theory]
    [MemberData(nameof(Unaries))]
    public void InPlaceMatchesItsDefinition(string name)
    {
        var entry = OpChecks.UnaryFunctors.Single(f => f.Name == name);
        using var data = new RandomData(Environment.TickCount ^ name.GetHashCode());
        using var cpu = new CpuBackend(threads: 2);
        int n = data.Next(1, 3000);
        var x = data.Values(n, scale: 8f);
        using var t = HostTensors.Upload(cpu, x);
        var view = TensorView.Of(t, n);
        entry.Run(cpu, view, view);
        var expected = new float[n];
        entry.Reference(x, view.Layout, expected, view.Layout);
        AssertClose($"{name} in place over {n} (seed {data.Seed})", expected, HostTensors.Download(cpu, t));
    }

    [Fact]
    public void ADestinationThatBroadcastsOrDiffersInShapeIsRefused()
    {
        using var cpu = new CpuBackend(threads: 1);
        using var t = cpu.AllocateTensor(1, 12);
        var x = TensorView.Of(t, 3, 4);
        var broadcast = TensorView.At(t, 0, 1, 4).BroadcastTo(3, 4);
        Assert.Contains("broadcast", Assert.Throws<ArgumentException>(() => cpu.Unary(x, broadcast, new Silu())).Message);
        Assert.Contains("differ in shape", Assert.Throws<ArgumentException>(() => cpu.Unary(x, TensorView.Of(t, 4, 3), new Silu())).Message);
    }

    /// <summary>Same elements written (NaN elsewhere), each within 2e-6 of the definition relative to the tensor's scale.</summary>
    private static void AssertClose(string what, float[] expected, float[] actual)
    {
        double scale = expected.Where(v => !float.IsNaN(v)).Select(v => Math.Abs((double)v)).DefaultIfEmpty(0).Max();
        for (int i = 0; i < expected.Length; i++)
        {
            Assert.True(float.IsNaN(expected[i]) == float.IsNaN(actual[i]), $"{what}: element {i} is {actual[i]}, expected {expected[i]}");
            if (!float.IsNaN(expected[i]))
                Assert.True(Math.Abs(actual[i] - (double)expected[i]) <= 2e-6 * Math.Max(1, scale) + 2e-6 * Math.Abs(expected[i]),
                    $"{what}: element {i} is {actual[i]}, expected {expected[i]}");
        }
    }
}
