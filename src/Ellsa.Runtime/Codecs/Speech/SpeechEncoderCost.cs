namespace Ellsa.Runtime.Codecs.Speech;

/// <summary>
/// What one second of audio costs the speech input at a config, for the benchmarks' floors: the
/// multiply-adds of every Linear (each stack's layers at 50 Hz ÷ its factor, the projector's rows;
/// attention scores, convolutions and norms are left out: under 3 % at the release) and the bytes
/// of the weights a streaming step reads once.
/// </summary>
public static class SpeechEncoderCost
{
    /// <summary>2 × the Linear multiply-adds per second of audio.</summary>
    public static double LinearFlopsPerSecond(SpeechEncoderConfig c)
    {
        double macs = 0;
        for (int i = 0; i < c.Stacks; i++)
            macs += c.NumEncoderLayers[i] * (50.0 / c.DownsamplingFactor[i]) * LayerWeights(c, i);
        double rows = 50.0 / (c.OutputDownsamplingFactor * c.SegSize);
        return 2 * (macs + rows * ProjectorWeights(c));
    }

    /// <summary>Elements of every Linear weight of the encoder's layers and the projector (the subsampling's are left out).</summary>
    public static double LinearWeights(SpeechEncoderConfig c)
    {
        double weights = ProjectorWeights(c);
        for (int i = 0; i < c.Stacks; i++)
            weights += c.NumEncoderLayers[i] * LayerWeights(c, i);
        return weights;
    }

    /// <summary>One Zipformer layer's Linear weights: attention in_proj and both SelfAttentions, three feed-forwards, NonlinAttention, two conv modules.</summary>
    private static double LayerWeights(SpeechEncoderConfig c, int stack)
    {
        double d = c.EncoderDim[stack], h = c.NumHeads[stack], ff = c.FeedforwardDim[stack];
        double attention = d * (2 * c.QueryHeadDim[stack] + c.PosHeadDim[stack]) * h + 2 * 2 * d * h * c.ValueHeadDim[stack];
        double feedForward = 2 * d * (ff * 3 / 4 + ff + ff * 5 / 4);
        double nonlin = d * 3 * (3 * d / 4) + 3 * d / 4 * d;
        double convolution = 2 * (d * 2 * d + d * d);
        return attention + feedForward + nonlin + convolution;
    }

    private static double ProjectorWeights(SpeechEncoderConfig c) => (double)c.ProjectorInput * c.Hidden + (double)c.Hidden * c.OutputDim;
}
