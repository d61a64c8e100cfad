using Ellsa.Runtime.Configuration;

namespace Ellsa.Runtime.Codecs.SpeechOut;

/// <summary>
/// ellsa.json's <c>speech_decoder.hift</c>: HiFTGenerator's constructor arguments under upstream's
/// names (cosyvoice2.yaml; cv/hifigan/generator.py:L222-242) with <c>f0_predictor</c> holding
/// ConvRNNF0Predictor's, defaults the release's. Every size is bounded before anything is allocated
/// from it, and the combinations the authors' code cannot run (a stage whose lengths would not
/// line up, an even ResBlock kernel, an STFT window that does not overlap-add to a positive sum)
/// are refused naming the field.
/// </summary>
public sealed record HiftConfig
{
    public const string SectionPath = "speech_decoder.hift";

    public int InChannels { get; init; } = 80;
    public int BaseChannels { get; init; } = 512;
    public int NbHarmonics { get; init; } = 8;
    public int SamplingRate { get; init; } = 24000;
    public double NsfAlpha { get; init; } = 0.1;
    public double NsfSigma { get; init; } = 0.003;
    public double NsfVoicedThreshold { get; init; } = 10;
    public int[] UpsampleRates { get; init; } = [8, 5, 3];
    public int[] UpsampleKernelSizes { get; init; } = [16, 11, 7];
    public int NFft { get; init; } = 16;
    public int HopLength { get; init; } = 4;
    public int[] ResblockKernelSizes { get; init; } = [3, 7, 11];
    public int[][] ResblockDilationSizes { get; init; } = [[1, 3, 5], [1, 3, 5], [1, 3, 5]];
    public int[] SourceResblockKernelSizes { get; init; } = [7, 7, 11];
    public int[][] SourceResblockDilationSizes { get; init; } = [[1, 3, 5], [1, 3, 5], [1, 3, 5]];
    public double LreluSlope { get; init; } = 0.1;
    public double AudioLimit { get; init; } = 0.99;
    /// <summary>f0_predictor.cond_channels: the F0 predictor's width (its in_channels is <see cref="InChannels"/>, num_class 1).</summary>
    public int F0Channels { get; init; } = 512;

    /// <summary>Upsampling stages (ConvTranspose1d layers).</summary>
    public int Stages => UpsampleRates.Length;
    /// <summary>Output samples per mel frame: the product of the rates times the iSTFT hop (480 at the release).</summary>
    public int SamplesPerFrame => UpsampleRates.Aggregate(1, (a, b) => a * b) * HopLength;
    /// <summary>Channels after stage <paramref name="stage"/>'s upsampling: base_channels // 2^(stage + 1).</summary>
    public int StageChannels(int stage) => BaseChannels >> (stage + 1);
    /// <summary>The source STFT's frames per frame of stage <paramref name="stage"/>: the rates of the later stages multiplied (generator.py:L288-296).</summary>
    public int SourceDownRate(int stage) => UpsampleRates.Skip(stage + 1).Aggregate(1, (a, b) => a * b);
    /// <summary>Spectrum channels: n_fft/2 + 1 magnitudes (or real parts) and as many phases (or imaginary parts).</summary>
    public int SpectrumChannels => NFft + 2;

    public static readonly string[] Keys =
    [
        "in_channels", "base_channels", "nb_harmonics", "sampling_rate", "nsf_alpha", "nsf_sigma", "nsf_voiced_threshold",
        "upsample_rates", "upsample_kernel_sizes", "istft_params", "resblock_kernel_sizes", "resblock_dilation_sizes",
        "source_resblock_kernel_sizes", "source_resblock_dilation_sizes", "lrelu_slope", "audio_limit", "f0_predictor",
    ];

    public static readonly string[] IstftKeys = ["n_fft", "hop_len"];
    public static readonly string[] F0PredictorKeys = ["num_class", "in_channels", "cond_channels"];

    /// <summary>The section's values; null (no section) gives the release.</summary>
    /// <param name="file">The settings file's name (the section's own errors name it through the section; kept for the
    /// readers' common signature).</param>
    public static HiftConfig Read(JsonSection? section, string file)
    {
        var d = new HiftConfig();
        if (section is not { } json)
            return d;
        json.RequireKnownKeys(Keys);
        var istft = json.Section("istft_params");
        istft?.RequireKnownKeys(IstftKeys);
        var f0 = json.Section("f0_predictor");
        f0?.RequireKnownKeys(F0PredictorKeys);
        var rates = List(json, "upsample_rates", d.UpsampleRates, 1, 64, 1, 8);
        var config = new HiftConfig
        {
            InChannels = json.Int("in_channels", d.InChannels, 1, 4096),
            BaseChannels = json.Int("base_channels", d.BaseChannels, 1, ConfigBounds.MaxHiddenSize),
            NbHarmonics = json.Int("nb_harmonics", d.NbHarmonics, 0, 64),
            SamplingRate = json.Int("sampling_rate", d.SamplingRate, 1000, 384000),
            NsfAlpha = NonNegative(json, "nsf_alpha", d.NsfAlpha),
            NsfSigma = NonNegative(json, "nsf_sigma", d.NsfSigma),
            NsfVoicedThreshold = json.Number("nsf_voiced_threshold", d.NsfVoicedThreshold),
            UpsampleRates = rates,
            UpsampleKernelSizes = List(json, "upsample_kernel_sizes", d.UpsampleKernelSizes, 1, 256, rates.Length, rates.Length),
            NFft = istft?.Int("n_fft", d.NFft, 2, 4096) ?? d.NFft,
            HopLength = istft?.Int("hop_len", d.HopLength, 1, 4096) ?? d.HopLength,
            ResblockKernelSizes = List(json, "resblock_kernel_sizes", d.ResblockKernelSizes, 1, 255, 1, 8),
            ResblockDilationSizes = Lists(json, "resblock_dilation_sizes", d.ResblockDilationSizes),
            SourceResblockKernelSizes = List(json, "source_resblock_kernel_sizes", d.SourceResblockKernelSizes, 1, 255, rates.Length, rates.Length),
            SourceResblockDilationSizes = Lists(json, "source_resblock_dilation_sizes", d.SourceResblockDilationSizes),
            LreluSlope = json.Number("lrelu_slope", d.LreluSlope),
            AudioLimit = json.Number("audio_limit", d.AudioLimit, positive: true),
            F0Channels = f0?.Int("cond_channels", d.F0Channels, 1, ConfigBounds.MaxHiddenSize) ?? d.F0Channels,
        };
        if (f0 is { } predictor)
        {
            // ConvRNNF0Predictor's output is squeezed to one f0 per frame and reads the same mel.
            predictor.Int("num_class", 1, 1, 1);
            int reads = predictor.Int("in_channels", config.InChannels, 1, 4096);
            if (reads != config.InChannels)
                throw predictor.Bad("in_channels", $"is {reads}, but the F0 predictor reads the generator's mel: {SectionPath}.in_channels is {config.InChannels}");
        }
        config.Validate(json, istft);
        return config;
    }

    private void Validate(JsonSection json, JsonSection? istft)
    {
        if (StageChannels(Stages - 1) < 1)
            throw json.Bad("base_channels", $"is {BaseChannels}: halved at each of the {Stages} stages it leaves no channel");
        for (int i = 0; i < Stages; i++)
        {
            // ConvTranspose1d(k, u, padding (k − u) // 2) gives u·L samples only when k − u is even and non-negative.
            int k = UpsampleKernelSizes[i], u = UpsampleRates[i];
            if (k < u || (k - u) % 2 != 0)
                throw json.Bad($"upsample_kernel_sizes[{i}]", $"is {k} with rate {u}: the kernel must be at least the rate and differ from it by an even number (so each stage gives rate × frames)");
        }
        long samplesPerFrame = UpsampleRates.Aggregate(1L, (a, b) => a * b) * HopLength;
        if (samplesPerFrame > 1 << 16)
            throw json.Bad("upsample_rates", $"× istft_params.hop_len gives {samplesPerFrame} samples per mel frame, more than {1 << 16}");
        if (NFft % 2 != 0)
            throw Bad(json, istft, "n_fft", $"is {NFft}, not even (the spectrum has n_fft/2 + 1 bins and the STFT pads n_fft/2 each side)");
        if (HopLength > NFft)
            throw Bad(json, istft, "hop_len", $"is {HopLength}, more than n_fft {NFft}: frames would leave gaps");
        if (MinimumEnvelope(NFft, HopLength) <= 1e-11)
            throw Bad(json, istft, "hop_len", $"is {HopLength} with n_fft {NFft}: the Hann window's overlap-add vanishes somewhere (torch.istft's NOLA check fails)");
        if (SamplesPerFrame <= NFft / 2)
            throw Bad(json, istft, "n_fft", $"is {NFft}: one frame's {SamplesPerFrame} samples cannot be reflect-padded by n_fft/2 = {NFft / 2}");
        if (ResblockDilationSizes.Length != ResblockKernelSizes.Length)
            throw json.Bad("resblock_dilation_sizes", $"has {ResblockDilationSizes.Length} lists for {ResblockKernelSizes.Length} resblock_kernel_sizes; give one per kernel");
        if (SourceResblockDilationSizes.Length != Stages)
            throw json.Bad("source_resblock_dilation_sizes", $"has {SourceResblockDilationSizes.Length} lists for {Stages} stages; give one per stage");
        OddKernels(json, "resblock_kernel_sizes", ResblockKernelSizes);
        OddKernels(json, "source_resblock_kernel_sizes", SourceResblockKernelSizes);
    }

    /// <summary>
    /// The smallest sum of squared periodic-Hann windows over the trimmed output of a centred
    /// iSTFT (what torch.istft divides by): the interior's period and the first n_fft/2 samples,
    /// where fewer frames overlap.
    /// </summary>
    public static double MinimumEnvelope(int nfft, int hop)
    {
        var window = HannWindow(nfft);
        double least = double.MaxValue;
        for (int j = 0; j < nfft / 2 + nfft + hop; j++)
        {
            int p = j + nfft / 2;
            double sum = 0;
            for (int t = Math.Max(0, (p - nfft + hop) / hop); t * hop <= p; t++)
            {
                int n = p - t * hop;
                if (n < nfft)
                    sum += (double)window[n] * window[n];
            }
            least = Math.Min(least, sum);
        }
        return least;
    }

    /// <summary>scipy's get_window("hann", n, fftbins=True) rounded to float32, as the authors store it (generator.py:L316).</summary>
    public static float[] HannWindow(int n)
    {
        var window = new float[n];
        for (int i = 0; i < n; i++)
            window[i] = (float)(0.5 - 0.5 * Math.Cos(2 * Math.PI * i / n));
        return window;
    }

    private static ConfigException Bad(JsonSection json, JsonSection? istft, string key, string problem) =>
        istft is { } section ? section.Bad(key, problem) : json.Bad($"istft_params.{key}", problem);

    private static void OddKernels(JsonSection json, string key, int[] kernels)
    {
        for (int i = 0; i < kernels.Length; i++)
        {
            if (kernels[i] % 2 == 0)
                throw json.Bad($"{key}[{i}]", $"is {kernels[i]}, not odd: a ResBlock's \"same\" padding d·(k − 1)/2 keeps the length only for odd kernels");
        }
    }

    private static double NonNegative(JsonSection json, string key, double fallback)
    {
        double value = json.Number(key, fallback);
        if (value < 0)
            throw json.Bad(key, $"must be 0 or more, got {value}");
        return value;
    }

    private static int[] List(JsonSection json, string key, int[] fallback, int min, int max, int minLength, int maxLength)
    {
        var values = json.IntArray(key) ?? fallback;
        if (values.Length < minLength || values.Length > maxLength)
            throw json.Bad(key, minLength == maxLength
                ? $"has {values.Length} entries; give {minLength} (one per upsample rate)"
                : $"has {values.Length} entries, outside {minLength}…{maxLength}");
        for (int i = 0; i < values.Length; i++)
        {
            if (values[i] < min || values[i] > max)
                throw json.Bad($"{key}[{i}]", $"is {values[i]}, outside {min}…{max}");
        }
        return values;
    }

    private static int[][] Lists(JsonSection json, string key, int[][] fallback)
    {
        var lists = json.IntArrays(key) ?? fallback;
        if (lists.Length is < 1 or > 8)
            throw json.Bad(key, $"has {lists.Length} lists, outside 1…8");
        for (int i = 0; i < lists.Length; i++)
        {
            if (lists[i].Length is < 1 or > 8)
                throw json.Bad($"{key}[{i}]", $"has {lists[i].Length} dilations, outside 1…8");
            for (int j = 0; j < lists[i].Length; j++)
            {
                if (lists[i][j] is < 1 or > 64)
                    throw json.Bad($"{key}[{i}][{j}]", $"is {lists[i][j]}, outside 1…64");
            }
        }
        return lists;
    }
}
