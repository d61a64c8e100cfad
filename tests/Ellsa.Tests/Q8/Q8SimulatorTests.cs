using Ellsa.Kernels.Backend;
using Ellsa.Kernels.Gpu;
using Ellsa.Runtime.Configuration;
using Ellsa.Runtime.Decoding;
using Ellsa.Runtime.Moe;
using Ellsa.Tests.Gpu;
using Ellsa.Tests.Moe;
using Ellsa.Tests.Support;

namespace Ellsa.Tests.Q8;

/// <summary>
/// The model with q8 weights through the GPU kernels: on ILGPU's CPU simulator (and on CUDA when
/// present), every position's logits within the q8 bound of the bf16 float64 reference, as on the
/// CPU (Q8AccuracyTests; the GPU keeps fp32 activations, so it is no further from bf16).
/// </summary>
[Collection(GpuTestCollection.Name)]
public sealed class Q8SimulatorTests
{
    /// <summary>One golden on the simulator (it routes to both experts, over mixed dtypes): the simulator is slow.</summary>
    [Theory]
    [InlineData("d96_mixed", "ends_in_vision")]
    public void SimulatorQ8LogitsStayWithinTheBound(string model, string name)
    {
        using var backend = IlgpuBackend.CreateCpuSimulator();
        Forward(backend, model, name);
    }

    [CudaTheory]
    [InlineData("tiny", "speech_block")]
    [InlineData("d96_mixed", "ends_in_vision")]
    public void CudaQ8LogitsStayWithinTheBound(string model, string name)
    {
        using var backend = IlgpuBackend.CreateCuda();
        Forward(backend, model, name);
    }

    private static void Forward(IComputeBackend backend, string model, string name)
    {
        var golden = Golden.Load(model, name);
        using var loaded = SaMoeModel.Load(golden.Case.ModelDirectory, backend, format: WeightFormat.Q8);
        var batch = SequenceFile.Read(golden.Case.SequenceFile, loaded.Config.Speech.HiddenSize);
        using var state = loaded.CreateSequence(batch.Count);
        var sink = new GoldenTests.CollectingSink();
        state.Append(batch, sink);
        Assert.Equal(golden.Forward.Logits.Length, sink.Rows.Count);
        for (int p = 0; p < sink.Rows.Count; p++)
        {
            double error = Numeric.RelativeL2(sink.Rows[p], golden.Forward.Logits[p]);
            Assert.True(error <= Q8AccuracyTests.LogitBound, $"{backend.Name} {model}/{name} position {p}: q8 relative L2 {error:E2}");
        }
    }
}
