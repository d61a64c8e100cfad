namespace Ellsa.Runtime.Configuration;

/// <summary>How the SA-MoE's projection matrices are held in memory.</summary>
public enum WeightFormat
{
    /// <summary>As the checkpoint stores them (bf16 for the release; f16 widened to f32).</summary>
    Bf16,
    /// <summary>Block-quantised int8 (Kernels.Numerics.Q8Format), made at load from bf16/f32 or read from a converted checkpoint.</summary>
    Q8,
    /// <summary>bf16 packed losslessly to 12 bits per value at load (Kernels.Numerics.PackedBf16): the same values in 3/4 of the bytes; the CPU backend's format.</summary>
    PackedBf16,
}

/// <summary>ellsa.json's <c>weights</c> section: <c>{"format": "bf16" | "bf16-packed" | "q8"}</c>.</summary>
public sealed record WeightSettings(WeightFormat Format)
{
    public static readonly string[] Keys = ["format"];

    public static WeightSettings Default => new(WeightFormat.Bf16);

    public static WeightSettings Read(JsonSection json)
    {
        json.RequireKnownKeys(Keys);
        string text = json.String("format", "bf16")!;
        return TryParse(text, out var format)
            ? new WeightSettings(format)
            : throw json.Bad("format", $"must be \"bf16\", \"bf16-packed\" or \"q8\", got \"{text}\"");
    }

    /// <summary>The spellings ellsa.json and <c>--weights</c> accept.</summary>
    public static bool TryParse(string text, out WeightFormat format)
    {
        switch (text)
        {
            case "bf16": format = WeightFormat.Bf16; return true;
            case "q8": format = WeightFormat.Q8; return true;
            case "bf16-packed": format = WeightFormat.PackedBf16; return true;
            default: format = WeightFormat.Bf16; return false;
        }
    }

    public static string Name(WeightFormat format) => format switch
    {
        WeightFormat.Q8 => "q8",
        WeightFormat.PackedBf16 => "bf16-packed",
        _ => "bf16",
    };
}
