namespace Ellsa.Runtime.Moe;

/// <summary>The two modality experts of SA-MoE. Every position is routed to exactly one.</summary>
public enum Expert
{
    Speech = 0,
    Vision = 1,
}

public static class ExpertNames
{
    /// <summary>The letter used in <c>ellsa forward</c>'s "experts" string.</summary>
    public static char Letter(this Expert expert) => expert == Expert.Speech ? 'S' : 'V';

    public static string Describe(this Expert expert) => expert == Expert.Speech ? "speech" : "vision";
}
