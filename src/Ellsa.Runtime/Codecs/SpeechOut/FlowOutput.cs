namespace Ellsa.Runtime.Codecs.SpeechOut;

/// <summary>
/// The flow's mel for one window: [80, Frames] row-major (channel-major, as the authors' flow
/// returns it and HiFT takes it), the prompt's frames removed.
/// </summary>
public sealed record FlowOutput(float[] Mel, int Frames)
{
    public const int Channels = FlowConfig.MelChannels;
}
