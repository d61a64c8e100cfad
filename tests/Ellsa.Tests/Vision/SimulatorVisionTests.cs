using Ellsa.Kernels.Gpu;
using Ellsa.Runtime.Codecs.Vision;
using Ellsa.Tests.Gpu;
using Xunit;

namespace Ellsa.Tests.Vision;

/// <summary>
/// The vision tokenizer on the GPU kernels (ILGPU's CPU simulator): the same codes as the CPU
/// backend and the authors' (near-ties aside), latents within 1e-4, on the smallest golden frame.
/// </summary>
[Collection(GpuTestCollection.Name)]
public sealed class SimulatorVisionTests
{
    [Fact]
    public void CodesThroughTheGpuKernelsAreTheAuthors()
    {
        using var backend = IlgpuBackend.CreateCpuSimulator();
        using var tokenizer = VisionTokenizer.Load(VisionGoldens.Tokenizer("tiny"), backend);
        const string name = "direct_small_60x50_png";
        using var input = VisionGoldens.Preprocess(name);
        using var golden = VisionGoldens.Model("tiny", name);
        var shape = input.Shape("pixels");
        var encoding = tokenizer.Encode(input.Floats("pixels"), (int)shape[1], (int)shape[2]);
        VisionGoldens.AssertClose("latent", golden.Floats("latent"), encoding.Latent, 1e-4);
        VisionGoldens.AssertCodes(golden.Ints("codes"), golden.Floats("margin"), encoding.Codes);
    }
}
