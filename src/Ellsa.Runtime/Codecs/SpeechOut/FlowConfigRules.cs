using Ellsa.Runtime.Configuration;

namespace Ellsa.Runtime.Codecs.SpeechOut;

/// <summary>
/// How the flow's config readers treat the keys the authors' code does not leave free: a value
/// their code hard-codes may be restated but not changed, a named variant must be one the engine
/// implements, and a value inference never reads is still checked for its type.
/// </summary>
internal static class FlowConfigRules
{
    /// <summary>An integer the authors' code fixes (<paramref name="where"/> says where): restating it is fine, another value is refused.</summary>
    public static int Fixed(JsonSection json, string key, int value, string where)
    {
        int given = json.Int(key, value);
        if (given != value)
            throw json.Bad(key, $"is {given}, but the authors' code fixes it at {value} ({where})");
        return value;
    }

    public static bool Fixed(JsonSection json, string key, bool value, string where)
    {
        bool given = json.Bool(key, value);
        if (given != value)
            throw json.Bad(key, $"is {(given ? "true" : "false")}, but the engine runs the release's {(value ? "true" : "false")} ({where})");
        return value;
    }

    /// <summary>A string naming a variant; only the listed ones are implemented.</summary>
    public static string OneOf(JsonSection json, string key, params string[] allowed)
    {
        string value = json.String(key, allowed[0]) ?? allowed[0];
        if (!allowed.Contains(value, StringComparer.Ordinal))
            throw json.Bad(key, $"is \"{value}\"; the engine implements {string.Join(" or ", allowed.Select(a => $"\"{a}\""))}");
        return value;
    }

    /// <summary>A finite number within [min, max] (also for training settings inference never reads: they must still be numbers).</summary>
    public static double Number(JsonSection json, string key, double fallback, double min, double max)
    {
        double value = json.Number(key, fallback);
        if (value < min || value > max)
            throw json.Bad(key, $"is {value}, outside {min}…{max}");
        return value;
    }
}
