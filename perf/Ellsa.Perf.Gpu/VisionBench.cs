using System.Diagnostics;
using System.Globalization;
using System.Text;
using Ellsa.Kernels.Cpu;
using Ellsa.Kernels.Gpu;
using Ellsa.Runtime.Codecs.Vision;
using Ellsa.Tests.Gpu.Checks;
using Ellsa.Tests.Support;

namespace Ellsa.Perf.Gpu;

/// <summary>
/// Frame encode on the device (ellsa-perf-gpu vision): the vision tokenizer's encoder (the 2-D encoder
/// once for the 4× temporal repeat, the time convs, quant_conv, the nearest code) on one 200×200
/// frame of normalised pixels, at the release geometry redrawn from
/// perf/gpu/manifests/vision_tokenizer_release.json (--size real: ch 256, ch_mult [1,2,2,4], 2 res
/// blocks, codebook 32768; F32 as perf/vision writes it) or weights/tiny's tokenizer on a smaller
/// frame (--size small). Checked against the CPU backend first (latent relative L2 ≤ 1e-3, at least
/// 99 % of the codes the same: random weights leave near-ties), then the median of --repeats frames
/// after a warm-up, codes on the host. Goal (issue 9): ≤ 5 ms per frame on an H200. Writes vision.md and vision.json.
/// </summary>
public static class VisionBench
{
    private const double Tolerance = 1e-3;

    public static string Run(PerfOptions options, Func<IlgpuOptions, IlgpuBackend> create, Action<string> log)
    {
        var random = new Random(20251204);
        DirectoryInfo? temporary = null;
        string directory;
        if (options.Size == "real")
        {
            temporary = Directory.CreateTempSubdirectory("ellsa-vision-bench-");
            directory = Path.Combine(temporary.FullName, VisionTokenizer.DirectoryName);
            var watch = Stopwatch.StartNew();
            long bytes = Manifests.Write(Manifests.Path("vision_tokenizer_release.json"), directory, random);
            log($"vision tokenizer: random weights ({bytes / 1e9:F2} GB) written in {watch.Elapsed.TotalSeconds:F1} s");
        }
        else
        {
            directory = Path.Combine(GoldenFiles.Root, "weights", "tiny", VisionTokenizer.DirectoryName);
        }
        try
        {
            using var backend = create(IlgpuOptions.Default);
            using var cpu = new CpuBackend(threads: 0);
            using var device = VisionTokenizer.Load(directory, backend);
            using var reference = VisionTokenizer.Load(directory, cpu);
            int factor = device.Config.SpatialFactor;
            int side = options.Size == "real" ? 200 : 4 * factor;
            side = (side + factor - 1) / factor * factor;
            var pixels = new float[3 * side * side];
            for (int i = 0; i < pixels.Length; i++)
                pixels[i] = (float)(random.NextDouble() * 2 - 1);

            var onDevice = device.Encode(pixels, side, side);
            var onCpu = reference.Encode(pixels, side, side);
            double latent = Numeric.RelativeL2<float>(onDevice.Latent, onCpu.Latent);
            int same = onDevice.Codes.Zip(onCpu.Codes).Count(p => p.First == p.Second);
            log($"vision check ({side}×{side}): latent {latent:E2} (limit {Tolerance:E0}), {same}/{onCpu.Codes.Length} codes the same");
            if (!(latent <= Tolerance) || same < 0.99 * onCpu.Codes.Length)
                throw new CheckFailedException($"vision: the device disagrees with the CPU backend (latent {latent:E2}, {same}/{onCpu.Codes.Length} codes)");

            var frames = Timed.RunsMs(options.Repeats, () => device.Encode(pixels, side, side));
            double ms = Timed.Median(frames);
            log($"vision frame encode ({side}×{side}): {ms:F2} ms (median of {frames.Count})");

            var s = new StringBuilder();
            var c = device.Config;
            s.AppendLine($"# Vision frame encode — {(options.Size == "real" ? "release" : "small")} size").AppendLine();
            s.AppendLine($"- device: {backend.Description}");
            s.AppendLine($"- tokenizer: ch {c.Channels}, ch_mult [{string.Join(",", c.ChannelMultipliers)}], {c.ResBlocks} res blocks, codebook {c.CodebookSize}; one {side}×{side} frame, codes on the host");
            s.AppendLine($"- check against the CPU backend: latent {latent:E2} (limit {Tolerance:E0}), {same}/{onCpu.Codes.Length} codes the same");
            s.AppendLine($"- command: ellsa-perf-gpu vision --size {options.Size} --repeats {options.Repeats}").AppendLine();
            s.AppendLine("| figure | ILGPU (ms) | goal |");
            s.AppendLine("| --- | ---: | --- |");
            s.AppendLine($"| frame encode (median of {frames.Count}) | {ms.ToString(ms < 10 ? "F3" : "F1", CultureInfo.InvariantCulture)} | ≤ 5 ms |");
            string markdown = s.ToString();
            return ResultFiles.Write(options.Output, "vision", markdown, new
            {
                device = backend.Description, size = options.Size, side, ms_per_frame = ms, versus_cpu_latent = latent, same_codes = same, codes = onCpu.Codes.Length,
            });
        }
        finally
        {
            temporary?.Delete(recursive: true);
        }
    }
}
