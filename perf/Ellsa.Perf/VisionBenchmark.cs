using Ellsa.Kernels.Cpu;
using Ellsa.Runtime.Codecs.Vision;

namespace Ellsa.Perf;

/// <summary>
/// <c>vision-cpu</c>: one 200×200 frame through the vision tokenizer's encoder (2-D encoder once,
/// time convs, quantiser) on the CPU backend, median of several frames after a warm-up, beside
/// the FLOPs of the 2-D encoder the config implies. perf/vision/side_by_side.py runs it
/// interleaved with the authors' PyTorch encoder on the same weights.
/// </summary>
public static class VisionBenchmark
{
    public static int Run(string tokenizerDirectory, int frames, int threads)
    {
        using var backend = new CpuBackend(threads);
        using var tokenizer = VisionTokenizer.Load(tokenizerDirectory, backend);
        const int side = ImagePreprocessor.WrapperSide;
        var random = new Random(1234);
        var pixels = Enumerable.Range(0, 3 * side * side).Select(_ => (float)(random.NextDouble() * 2 - 1)).ToArray();
        tokenizer.Encode(pixels, side, side);
        var times = Timed.RunsMs(frames, () => tokenizer.Encode(pixels, side, side)).Select(ms => ms / 1000).Order().ToList();
        double median = times[times.Count / 2];
        double gflop = EncoderFlops(tokenizer.Config, side) / 1e9;
        Console.WriteLine($"vision-cpu: {backend.Description}; {tokenizer.Config.Channels} ch × [{string.Join(",", tokenizer.Config.ChannelMultipliers)}], " +
                          $"{tokenizer.Config.ResBlocks} res blocks, codebook {tokenizer.Config.CodebookSize}");
        Console.WriteLine($"frame {side}×{side}: median {median:F3} s over {times.Count} (min {times[0]:F3}, max {times[^1]:F3}); " +
                          $"2-D encoder {gflop:F1} GFLOP → {gflop / median:F1} GFLOP/s");
        Console.WriteLine($"RESULT engine_s_per_frame {median:F4}");
        return 0;
    }

    /// <summary>Multiply-adds ×2 of the 2-D encoder's convolutions and attention at a square frame (the time part is negligible).</summary>
    public static double EncoderFlops(VisionTokenizerConfig c, int side)
    {
        double flops = 0;
        void Conv(int inC, int outC, int k, int size) => flops += 2.0 * inC * outC * k * k * size * size;
        void Attention(int ch, int size) { Conv(ch, ch, 1, size); Conv(ch, ch, 1, size); Conv(ch, ch, 1, size); Conv(ch, ch, 1, size); flops += 4.0 * Math.Pow(size, 4) * ch; }
        int s = side, width = c.Channels;
        Conv(c.InChannels, width, 3, s);
        for (int level = 0; level < c.Levels; level++)
        {
            int outWidth = c.WidthAt(level);
            for (int i = 0; i < c.ResBlocks; i++)
            {
                Conv(width, outWidth, 3, s);
                Conv(outWidth, outWidth, 3, s);
                if (width != outWidth)
                    Conv(width, outWidth, 1, s);
                width = outWidth;
                if (c.AttentionLevels.Contains(level))
                    Attention(width, s);
            }
            if (level != c.Levels - 1)
            {
                s = (s + 1) / 2;
                Conv(width, width, 3, s);
            }
        }
        Conv(width, width, 3, s);
        Conv(width, width, 3, s);
        Attention(width, s);
        Conv(width, width, 3, s);
        Conv(width, width, 3, s);
        Conv(width, c.ZChannels, 3, s);
        return flops;
    }
}
