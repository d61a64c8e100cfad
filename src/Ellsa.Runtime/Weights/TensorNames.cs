using Ellsa.Runtime.Moe;

namespace Ellsa.Runtime.Weights;

/// <summary>
/// The alias table: every spelling under which a role's tensor is accepted, primary spelling
/// first. The authors' state dict is PEFT-wrapped (00-design.md §4); merged exports drop
/// <c>base_layer</c>, the embedding/head splits and the <c>base_model.model.</c> step. The
/// released checkpoint's exact spelling is unconfirmed, so this table is where a real file gets fitted.
/// </summary>
public static class TensorNames
{
    private static readonly string[] SpeechPrefixes = ["speech_expert.model.base_model.model.", "speech_expert.model."];
    private static readonly string[] VisionPrefixes = ["vision_expert.model.base_model.model.", "vision_expert.model."];

    /// <summary>Where the expert's decoder lives below its prefix: Llama nests it under <c>model.</c>, Emu3 does not.</summary>
    private static string Body(Expert expert) => expert == Expert.Speech ? "model." : "";

    public static string[] Embedding(Expert expert) => expert == Expert.Speech
        ? Under(expert, "model.embed_tokens.original_embedding.weight", "model.embed_tokens.weight")
        : Under(expert, "embed_tokens.weight");

    /// <summary>The speech expert's learnable extra rows (ids V0…V0+E−1); absent from merged exports that fold them in.</summary>
    public static string[] ExtraEmbedding(Expert expert) => expert == Expert.Speech
        ? Under(expert, "model.embed_tokens.additional_embedding", "model.embed_tokens.additional_embedding.weight")
        : [];

    public static string[] FinalNorm(Expert expert) => Under(expert, Body(expert) + "norm.weight");

    public static string[] Head(Expert expert) => expert == Expert.Speech
        ? Under(expert, "lm_head.original_linear.weight", "lm_head.weight")
        : ["vision_expert.lm_head.weight", "vision_expert.model.lm_head.weight", "vision_expert.base_model.model.lm_head.weight"];

    public static string[] ExtraHead(Expert expert) => expert == Expert.Speech
        ? Under(expert, "lm_head.new_linear.weight")
        : [];

    public static string[] LayerNorm(Expert expert, int layer, string which) =>
        Under(expert, $"{Body(expert)}layers.{layer}.{which}.weight");

    /// <summary>
    /// A projection's base weight (<c>self_attn.q_proj</c>, <c>mlp.gate_proj</c>, …). PEFT wraps only the
    /// LoRA targets (q, k, v) in <c>base_layer</c>, so that spelling is primary for them and the plain one for the rest.
    /// </summary>
    public static string[] Projection(Expert expert, int layer, string module)
    {
        string wrapped = $"{Body(expert)}layers.{layer}.{module}.base_layer.weight";
        string plain = $"{Body(expert)}layers.{layer}.{module}.weight";
        return IsLoraTarget(module) ? Under(expert, wrapped, plain) : Under(expert, plain, wrapped);
    }

    public static string[] ProjectionBias(Expert expert, int layer, string module)
    {
        string wrapped = $"{Body(expert)}layers.{layer}.{module}.base_layer.bias";
        string plain = $"{Body(expert)}layers.{layer}.{module}.bias";
        return IsLoraTarget(module) ? Under(expert, wrapped, plain) : Under(expert, plain, wrapped);
    }

    /// <summary>The released adapters target q, k and v (<c>lora_modules qkv</c>, 01-model.md §0).</summary>
    private static bool IsLoraTarget(string module) => module is "self_attn.q_proj" or "self_attn.k_proj" or "self_attn.v_proj";

    /// <summary>LoRA factor A or B of a projection (PEFT adapter "default", or unnamed).</summary>
    public static string[] Lora(Expert expert, int layer, string module, char factor) =>
        Under(expert, $"{Body(expert)}layers.{layer}.{module}.lora_{factor}.default.weight", $"{Body(expert)}layers.{layer}.{module}.lora_{factor}.weight");

    /// <summary>Every spelling × prefix, the primary spelling with the PEFT prefix first.</summary>
    private static string[] Under(Expert expert, params string[] spellings)
    {
        var prefixes = expert == Expert.Speech ? SpeechPrefixes : VisionPrefixes;
        var names = new string[prefixes.Length * spellings.Length];
        int i = 0;
        foreach (string spelling in spellings)
        {
            foreach (string prefix in prefixes)
                names[i++] = prefix + spelling;
        }
        return names;
    }
}
