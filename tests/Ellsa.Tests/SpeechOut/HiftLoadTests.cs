using Ellsa.Runtime.Checkpoints;
using Ellsa.Runtime.Codecs.SpeechOut;
using Ellsa.Runtime.Networks;
using Ellsa.Tests.Support;
using Xunit;

namespace Ellsa.Tests.SpeechOut;

/// <summary>
/// HiFT's tensors: every tensor under the hift prefix bound; a config the tensors contradict, a
/// missing tensor, a weight of the wrong dtype and a weight norm that cannot be folded refused as
/// one line naming the file and the tensor; bad calls refused naming what is wrong.
/// </summary>
public sealed class HiftLoadTests
{
    private const string Prefix = "speech_expert.generator.hift.";

    [Theory]
    [InlineData("small")]
    [InlineData("wide")]
    public void EveryHiftTensorIsBound(string config)
    {
        using var tensors = TensorSet.OpenFile(Path.Combine(HiftGoldens.Directory(config), HiftGoldens.WeightsFile), HiftGoldens.WeightsFile);
        var log = new WeightBindings();
        using var hift = Hift.Load(tensors, HiftGoldens.Config(config), SharedBackends.Cpu, log);
        Assert.Empty(log.Unused(tensors, name => !name.StartsWith(Prefix, StringComparison.Ordinal)));
        Assert.Contains(log.All, b => b.Name == Prefix + "ups.0.parametrizations.weight.original0");
    }

    [Theory]
    [InlineData("{\"base_channels\": 96, \"f0_predictor\": {\"cond_channels\": 48}}", "tensor 'speech_expert.generator.hift.conv_pre.parametrizations.weight.original0': has shape [48, 1, 1], but the config implies [96, 1, 1]")]
    [InlineData("{\"base_channels\": 48, \"f0_predictor\": {\"cond_channels\": 64}}", "tensor 'speech_expert.generator.hift.f0_predictor.condnet.0.parametrizations.weight.original0': has shape [48, 1, 1], but the config implies [64, 1, 1]")]
    [InlineData("{\"base_channels\": 48, \"f0_predictor\": {\"cond_channels\": 48}, \"nb_harmonics\": 7}", "tensor 'speech_expert.generator.hift.m_source.l_linear.weight': has shape [1, 9], but the config implies [1, 8]")]
    [InlineData("{\"base_channels\": 48, \"f0_predictor\": {\"cond_channels\": 48}, \"upsample_kernel_sizes\": [18, 11, 7]}", "tensor 'speech_expert.generator.hift.ups.0.parametrizations.weight.original1': has shape [48, 24, 16], but the config implies [48, 24, 18]")]
    [InlineData("{\"base_channels\": 48, \"f0_predictor\": {\"cond_channels\": 48}, \"resblock_dilation_sizes\": [[1, 3, 5, 7], [1, 3, 5], [1, 3, 5]]}", "tensor 'speech_expert.generator.hift.resblocks.0.convs1.3.parametrizations.weight.original0': is missing (the config implies shape [24, 1, 1])")]
    public void AConfigTheTensorsContradictNamesTheFileAndTensor(string section, string message)
    {
        using var document = System.Text.Json.JsonDocument.Parse($$$"""{"speech_decoder": {"hift": {{{section}}}}}""");
        var root = new Ellsa.Runtime.Configuration.JsonSection("ellsa.json", "", document.RootElement);
        var config = HiftConfig.Read(root.Section("speech_decoder")!.Value.Section("hift"), "ellsa.json");
        var error = Assert.Throws<CheckpointException>(() => HiftGoldens.Load("small", SharedBackends.Cpu, config));
        Assert.Equal($"{HiftGoldens.WeightsFile}: {message}", error.Message);
    }

    [Fact]
    public void AMissingTensorIsNamed()
    {
        using var file = TensorSet.OpenFile(Path.Combine(HiftGoldens.Directory("small"), HiftGoldens.WeightsFile), HiftGoldens.WeightsFile);
        string gone = Prefix + "source_downs.1.bias";
        var tensors = new TensorSet(HiftGoldens.WeightsFile, file.Tensors.Where(t => t.Key != gone).ToDictionary(), owner: null);
        var error = Assert.Throws<CheckpointException>(() => Hift.Load(tensors, HiftGoldens.Config("small"), SharedBackends.Cpu, new WeightBindings()));
        Assert.Equal($"{HiftGoldens.WeightsFile}: tensor '{gone}': is missing (the config implies shape [12])", error.Message);
    }

    [Theory]
    [InlineData("conv_post.parametrizations.weight.original1", "zero-slice", "tensor 'speech_expert.generator.hift.conv_post.parametrizations.weight.original1': slice 0 has norm 0; weight norm divides by it")]
    [InlineData("ups.1.parametrizations.weight.original0", "nan", "tensor 'speech_expert.generator.hift.ups.1.parametrizations.weight.original0': entry 0 is NaN, not finite")]
    [InlineData("resblocks.2.convs2.1.parametrizations.weight.original1", "nan", "tensor 'speech_expert.generator.hift.resblocks.2.convs2.1.parametrizations.weight.original1': slice 0 has norm NaN")]
    [InlineData("f0_predictor.classifier.weight", "int32", "tensor 'speech_expert.generator.hift.f0_predictor.classifier.weight': has dtype I32; weights are BF16, F16 or F32")]
    public void AWeightThatCannotBeUsedIsNamed(string tensor, string damage, string message)
    {
        using var temp = TestPaths.CreateTemp();
        string path = temp.File(HiftGoldens.WeightsFile);
        using (var source = SafetensorsFile.Open(Path.Combine(HiftGoldens.Directory("small"), HiftGoldens.WeightsFile)))
        {
            SafetensorsWriter.Write(path, source.Entries.Values.Select(e =>
            {
                var data = source.Bytes(e).ToArray();
                if (e.Name != Prefix + tensor)
                    return new TensorData(e.Name, e.Dtype, e.Shape, data);
                return damage switch
                {
                    "zero-slice" => new TensorData(e.Name, e.Dtype, e.Shape, Zeroed(data, (int)(data.Length / e.Shape[0]))),
                    "nan" => new TensorData(e.Name, SafetensorsDtype.F32, e.Shape, NaNs(e.ElementCount)),
                    _ => new TensorData(e.Name, SafetensorsDtype.I32, e.Shape, new byte[e.ElementCount * 4]),
                };
            }).ToList());
        }
        using var tensors = TensorSet.OpenFile(path, HiftGoldens.WeightsFile);
        var error = Assert.Throws<CheckpointException>(() => Hift.Load(tensors, HiftGoldens.Config("small"), SharedBackends.Cpu, new WeightBindings()));
        Assert.StartsWith($"{HiftGoldens.WeightsFile}: {message}", error.Message);
        Assert.DoesNotContain('\n', error.Message);
    }

    [Fact]
    public void BadCallsAreRefused()
    {
        var (hift, tensors) = HiftGoldens.Load("small", SharedBackends.Cpu);
        using var _ = tensors;
        using var __ = hift;
        var options = HiftOptions.Deterministic;
        Assert.Equal("the mel has 79 values, not 80 channels × 1 frames",
            Assert.Throws<ArgumentException>(() => hift.Synthesize(new float[79], 1, options)).Message);
        Assert.Equal("HiFT needs at least one mel frame, got 0", Assert.Throws<ArgumentException>(() => hift.Synthesize([], 0, options)).Message);
        var mel = new float[80 * 4];
        mel[2 * 4 + 3] = float.NaN;
        Assert.Equal("mel value 11 (channel 2, frame 3) is NaN", Assert.Throws<ArgumentException>(() => hift.Synthesize(mel, 4, options)).Message);
        mel[11] = 0;
        Assert.Equal("the cached source has 1921 samples, more than the call's 1920",
            Assert.Throws<ArgumentException>(() => hift.Run(mel, 4, options, new float[1921])).Message);
        Assert.Contains("too many for one HiFT call", Assert.Throws<ArgumentException>(() => hift.Synthesize(mel, 1 << 20, options)).Message);
        Assert.Equal(1920, hift.Synthesize(mel, 4, options).Length);
    }

    private static byte[] Zeroed(byte[] data, int sliceBytes)
    {
        Array.Clear(data, 0, sliceBytes);
        return data;
    }

    private static byte[] NaNs(long count)
    {
        var values = new float[count];
        Array.Fill(values, float.NaN);
        return System.Runtime.InteropServices.MemoryMarshal.AsBytes(values.AsSpan()).ToArray();
    }
}
