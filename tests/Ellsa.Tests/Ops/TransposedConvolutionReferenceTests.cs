using Ellsa.Kernels.Backend;
using Ellsa.Kernels.Cpu;
using Ellsa.Kernels.Ops.Convolution;
using Ellsa.Kernels.Ops.Elementwise;
using Ellsa.Kernels.Ops.TransposedConvolution;
using Ellsa.Tests.Gpu.Checks;
using Ellsa.Tests.Support;
using Xunit;

namespace Ellsa.Tests.Ops;

/// <summary>
/// Transposed convolutions through the CPU backend (activated row copy, the weight GEMM with fp32
/// or bf16 weights, the overlap-add, in output chunks that split unevenly) against the direct
/// double-precision definition that scatters every input tap, on fresh random shapes.
/// </summary>
public sealed class TransposedConvolutionReferenceTests
{
    public static TheoryData<string> Kinds => new(OpChecks.TransposedKinds);

    [Theory]
    [MemberData(nameof(Kinds))]
    public void MatchesTheDefinition(string kind)
    {
        using var data = new RandomData(Environment.TickCount ^ kind.GetHashCode());
        using var cpu = new CpuBackend(threads: 2);
        using var weights = new NativeWeights();
        for (int round = 0; round < 6; round++)
        {
            var (spec, inChannels) = OpChecks.RandomTransposed(data, kind);
            var input = OpChecks.TransposedInput(data, inChannels, spec.InLength);
            var values = data.Values(inChannels * spec.InLength, scale: 2f);
            using var x = HostTensors.Upload(cpu, values);
            var view = input(x);

            var stored = new double[spec.Columns * inChannels];
            var dtype = data.Chance() ? WeightDtype.BF16 : WeightDtype.F32;
            using var weight = cpu.UploadMatrix(new HostMatrix("ups.weight",
                [weights.Part(dtype, spec.Columns, inChannels, () => (float)(data.Random.NextDouble() - 0.5), stored)]));
            var biasValues = data.Values(spec.Channels);
            using var bias = HostTensors.Upload(cpu, biasValues);
            using var y = HostTensors.Upload(cpu, HostTensors.Poisoned(spec.Channels * spec.OutLength));
            using var workspace = new ConvWorkspace(cpu, maxColumnFloats: data.Next(1, 6) * 40);
            TransposedConvolution.Forward(cpu, weight, TensorView.Of(bias, spec.Channels), view, spec,
                TensorView.Of(y, spec.Channels, spec.OutLength), workspace, new LeakyRelu(0.2f));
            var actual = HostTensors.Download(cpu, y);

            // The definition reads the activated input densely as [in, L] and PyTorch's weight [in, channels, k].
            var dense = new float[values.Length];
            for (int i = 0; i < dense.Length; i++)
                dense[i] = (float)new LeakyRelu(0.2f).Exact(values[view.Layout.OffsetOf(i)]);
            var torchWeight = new float[stored.Length];
            for (int r = 0; r < spec.Columns; r++)
                for (int i = 0; i < inChannels; i++)
                    torchWeight[i * spec.Columns + r] = (float)stored[r * inChannels + i];
            var expected = TransposedConvolution.Reference(dense, inChannels, spec, torchWeight, biasValues);
            Assert.DoesNotContain(actual, float.IsNaN);
            double error = Numeric.RelativeL2<double>(actual, expected);
            Assert.True(error < 1e-5, $"{kind} {spec} from {inChannels}, {dtype}: relative L2 {error:E2} (seed {data.Seed})");
            // ProductWeight is the inverse of that rearrangement: PyTorch's layout back to the GEMM's rows.
            Assert.Equal(stored.Select(v => (float)v), TransposedConvolution.ProductWeight(torchWeight, inChannels, spec.Channels, spec.Kernel));
        }
    }

    /// <summary>The definition on a case worked by hand: stride 2, kernel 3, padding 1 (output 2L − 1).</summary>
    [Fact]
    public void ReferenceGivesAHandWorkedUpsampling()
    {
        var spec = OverlapAddSpec.Create(1, 3, 3, 2, 1);
        float[] x = [1, 2, 3], w = [0.5f, 1, -1];
        // Scattered: t=0 → j −1,0,1; t=1 → 1,2,3; t=2 → 3,4,5 (j = 2t − 1 + tap), trimmed to 0…4.
        var y = TransposedConvolution.Reference(x, 1, spec, w, []);
        Assert.Equal([1.0, -1 + 1, 2, -2 + 1.5, 3], y);
        Assert.Equal(5, spec.OutLength);
    }

    [Fact]
    public void ColumnsThatMissANeededInputAreRefused()
    {
        using var cpu = new CpuBackend(threads: 1);
        using var t = cpu.AllocateTensor(1, 64);
        var spec = OverlapAddSpec.Create(2, 8, 4, 2, 1);
        // Outputs 0…5 need inputs 0…3; the columns start at input 1.
        var error = Assert.Throws<ArgumentException>(() =>
            cpu.OverlapAdd(TensorView.At(t, 0, 3, 8), spec, 1, 0, null, TensorView.At(t, 32, 2, 6)));
        Assert.Contains("need inputs 0…3", error.Message);
    }
}
