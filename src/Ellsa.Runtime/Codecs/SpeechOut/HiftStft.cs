using Ellsa.Kernels.Backend;
using Ellsa.Kernels.Ops.Elementwise;
using Ellsa.Kernels.Ops.TransposedConvolution;
using Ellsa.Runtime.Networks;

namespace Ellsa.Runtime.Codecs.SpeechOut;

/// <summary>
/// HiFT's STFT pair (generator.py:L327-347) with its periodic Hann window: torch.stft of the source
/// (centred, reflect padding n_fft/2, onesided) as [Re | Im] channels, and torch.istft of the
/// spectrum (inverse real DFT per frame, window, overlap-add, division by the summed squared
/// window, n_fft/2 trimmed at each end). n_fft is small (16 at the release), so both are written as
/// products with DFT matrices made at load, on the op layer: the analysis is a Conv1d with stride
/// hop and one kernel row per bin, the synthesis a transposed convolution with stride hop whose
/// padding n_fft/2 is exactly the centred trim. No FFT library is needed at these sizes.
/// </summary>
internal sealed class HiftStft
{
    private readonly int _nfft, _hop;
    private readonly Conv _analysis;
    private readonly DeviceMatrix _synthesis;
    private readonly DeviceTensor _windowSquares;

    private HiftStft(int nfft, int hop, Conv analysis, DeviceMatrix synthesis, DeviceTensor windowSquares) =>
        (_nfft, _hop, _analysis, _synthesis, _windowSquares) = (nfft, hop, analysis, synthesis, windowSquares);

    public int Bins => _nfft / 2 + 1;

    /// <param name="scope">Where the computed tables are owned (they have no tensor of their own).</param>
    public static HiftStft Create(WeightScope scope, int nfft, int hop)
    {
        var window = HiftConfig.HannWindow(nfft);
        int bins = nfft / 2 + 1;
        // Analysis rows: bin k's real part Σ w[n]·cos(2πkn/N)·x, its imaginary part −Σ w[n]·sin(2πkn/N)·x.
        var analysis = new float[2 * bins * nfft];
        // Synthesis rows n: the inverse real DFT of [Re | Im] (bins 0 and N/2 once, the others twice, /N; the
        // imaginary parts of bins 0 and N/2 drop out as in a C2R transform) times the window.
        var synthesis = new float[nfft * 2 * bins];
        for (int k = 0; k < bins; k++)
        {
            double twice = k == 0 || k == nfft / 2 ? 1 : 2;
            for (int n = 0; n < nfft; n++)
            {
                double angle = 2 * Math.PI * ((long)k * n % nfft) / nfft;
                analysis[k * nfft + n] = (float)(window[n] * Math.Cos(angle));
                analysis[(bins + k) * nfft + n] = (float)(-window[n] * Math.Sin(angle));
                synthesis[n * 2 * bins + k] = (float)(window[n] * twice * Math.Cos(angle) / nfft);
                synthesis[n * 2 * bins + bins + k] = (float)(-window[n] * twice * Math.Sin(angle) / nfft);
            }
        }
        var analysisConv = Conv.FromWeight(scope.ComputedMatrix("stft.analysis", analysis, 2 * bins, nfft), null, 1, 2 * bins);
        var squares = window.Select(w => w * w).ToArray();
        return new HiftStft(nfft, hop, analysisConv, scope.ComputedMatrix("stft.synthesis", synthesis, nfft, 2 * bins), scope.Upload(squares));
    }

    /// <summary>Frames of the centred STFT of <paramref name="samples"/> samples: samples / hop + 1.</summary>
    public int Frames(int samples) => samples / _hop + 1;

    /// <summary>
    /// The spectrum rows [frames, 2·bins] of a source already reflect-padded by n_fft/2 each side
    /// (rows [samples + n_fft, 1]).
    /// </summary>
    public TensorSlice Analyze(HiftPass pass, TensorSlice padded, string purpose) =>
        pass.Conv1d(_analysis, HiftPass.ChannelFirst(padded), purpose, _nfft, stride: _hop);

    /// <summary>
    /// The waveform rows [samples, 1] of spectrum rows [frames, 2·bins] ([Re | Im]): frames·hop − hop samples.
    /// </summary>
    public TensorSlice Synthesize(HiftPass pass, TensorSlice spectrum)
    {
        int frames = spectrum.Rows;
        var spec = OverlapAddSpec.Create(1, frames, _nfft, _hop, _nfft / 2);
        var wave = pass.Take("istft.wave", spec.OutLength, 1);
        TransposedConvolution.Forward(pass.Backend, _synthesis, null, HiftPass.ChannelFirst(spectrum), spec, HiftPass.ChannelFirst(wave), pass.Conv, new Copy());
        // The window envelope is the same overlap-add of the squared window repeated for every frame.
        var envelope = pass.Take("istft.envelope", spec.OutLength, 1);
        var squares = TensorView.Of(_windowSquares, 1, _nfft).BroadcastTo(frames, _nfft);
        pass.Backend.OverlapAdd(squares, spec, 0, 0, null, HiftPass.ChannelFirst(envelope));
        pass.Backend.Binary(wave, envelope, wave, new Divide());
        return wave;
    }
}
