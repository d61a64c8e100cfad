using Ellsa.Runtime.Codecs.SpeechOut;

namespace Ellsa.Tests.SpeechOut;

/// <summary>
/// Keeps the flow's intermediate activations by name; with <paramref name="stopAfter"/>, ends the
/// call (with <see cref="StoppedException"/>) once that tap is taken, for checks of the early
/// stages on slow backends.
/// </summary>
internal sealed class RecordingProbe(string? stopAfter = null) : IFlowProbe
{
    private readonly Dictionary<string, (float[] Rows, int Frames, int Channels)> _taps = [];

    public float[] this[string name] => _taps.TryGetValue(name, out var tap) ? tap.Rows : throw new KeyNotFoundException($"no tap {name}");

    /// <summary>A tap as [channels, frames], the authors' layout for conv activations.</summary>
    public float[] Channels(string name)
    {
        var (rows, frames, channels) = _taps[name];
        return SpeechOutGoldens.Transpose(rows, frames, channels);
    }

    public void Tap(string name, float[] rows, int frames, int channels)
    {
        _taps[name] = (rows, frames, channels);
        if (name == stopAfter)
            throw new StoppedException();
    }

    public sealed class StoppedException : Exception;
}
