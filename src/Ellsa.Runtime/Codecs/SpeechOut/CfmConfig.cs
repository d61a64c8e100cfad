using Ellsa.Runtime.Configuration;

namespace Ellsa.Runtime.Codecs.SpeechOut;

/// <summary>
/// <c>speech_decoder.flow.decoder.cfm_params</c>: the conditional flow matching's settings. At
/// inference only the time schedule and the guidance weight count (solve_euler runs whatever
/// <c>solver</c> says, flow_matching.py:L69); the training settings are checked for their types.
/// </summary>
public sealed record CfmConfig
{
    /// <summary>t_k = 1 − cos(π/2 · k/n) when true (the release's "cosine"), k/n otherwise.</summary>
    public bool CosineSchedule { get; init; } = true;
    /// <summary>Classifier-free guidance: v = (1 + w)·v_cond − w·v_uncond.</summary>
    public double InferenceCfgRate { get; init; } = 0.7;

    public static readonly string[] Keys = ["sigma_min", "solver", "t_scheduler", "training_cfg_rate", "inference_cfg_rate", "reg_loss_type"];

    public static CfmConfig Read(JsonSection? section)
    {
        var d = new CfmConfig();
        if (section is not { } json)
            return d;
        json.RequireKnownKeys(Keys);
        FlowConfigRules.Number(json, "sigma_min", 1e-6, 0, 1);
        FlowConfigRules.Number(json, "training_cfg_rate", 0.2, 0, 1);
        FlowConfigRules.OneOf(json, "solver", "euler");
        FlowConfigRules.OneOf(json, "reg_loss_type", "l1", "l2");
        return new CfmConfig
        {
            CosineSchedule = FlowConfigRules.OneOf(json, "t_scheduler", "cosine", "linear") == "cosine",
            InferenceCfgRate = FlowConfigRules.Number(json, "inference_cfg_rate", d.InferenceCfgRate, 0, 100),
        };
    }
}
