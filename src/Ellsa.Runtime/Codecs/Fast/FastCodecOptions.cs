namespace Ellsa.Runtime.Codecs.Fast;

/// <summary>How to load a <see cref="FastActionCodec"/>.</summary>
public sealed record FastCodecOptions
{
    /// <summary>Chunk length T. Like the reference's decode(time_horizon=…) argument it wins
    /// over processor_config.json; when both are absent, 10.</summary>
    public int? TimeHorizon { get; init; }

    /// <summary>Action dimension D (last = gripper); wins over processor_config.json; default 7.</summary>
    public int? ActionDim { get; init; }

    /// <summary>A norm-stats JSON file (<c>{"norm_stats": {KEY: {"q01": […], "q99": […]}}}</c>);
    /// without it the codec works in normalised units only.</summary>
    public string? NormStatsPath { get; init; }

    /// <summary>The entry of <c>norm_stats</c> to use (LIBERO: "libero"); may be omitted when
    /// the file has exactly one.</summary>
    public string? NormStatsKey { get; init; }

    public const int DefaultTimeHorizon = 10;
    public const int DefaultActionDim = 7;
}
