namespace Ellsa.Runtime.Checkpoints;

/// <summary>Every dtype the safetensors format defines, so a file using any of them is parsed and validated.</summary>
public enum SafetensorsDtype
{
    BOOL, U8, I8, F8_E5M2, F8_E4M3, F8_E8M0, F8_E4M3FNUZ, F8_E5M2FNUZ,
    I16, U16, F16, BF16, I32, U32, F32, C64, F64, I64, U64, F4, F6_E2M3, F6_E3M2,
}

public static class SafetensorsDtypes
{
    public static int Bits(SafetensorsDtype dtype) => dtype switch
    {
        SafetensorsDtype.F4 => 4,
        SafetensorsDtype.F6_E2M3 or SafetensorsDtype.F6_E3M2 => 6,
        SafetensorsDtype.BOOL or SafetensorsDtype.U8 or SafetensorsDtype.I8 or SafetensorsDtype.F8_E5M2
            or SafetensorsDtype.F8_E4M3 or SafetensorsDtype.F8_E8M0 or SafetensorsDtype.F8_E4M3FNUZ
            or SafetensorsDtype.F8_E5M2FNUZ => 8,
        SafetensorsDtype.I16 or SafetensorsDtype.U16 or SafetensorsDtype.F16 or SafetensorsDtype.BF16 => 16,
        SafetensorsDtype.I32 or SafetensorsDtype.U32 or SafetensorsDtype.F32 => 32,
        SafetensorsDtype.C64 or SafetensorsDtype.F64 or SafetensorsDtype.I64 or SafetensorsDtype.U64 => 64,
        _ => throw new ArgumentOutOfRangeException(nameof(dtype)),
    };

    /// <summary>Case-sensitive, as the format spells them.</summary>
    public static bool TryParse(string text, out SafetensorsDtype dtype) =>
        Enum.TryParse(text, ignoreCase: false, out dtype) && Enum.IsDefined(dtype) && !int.TryParse(text, out _);

    public static bool IsFloatWeight(SafetensorsDtype dtype) =>
        dtype is SafetensorsDtype.BF16 or SafetensorsDtype.F16 or SafetensorsDtype.F32;
}
