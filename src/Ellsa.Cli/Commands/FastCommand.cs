using System.CommandLine;
using Ellsa.Cli.Infrastructure;
using Ellsa.Runtime.Codecs.Fast;

namespace Ellsa.Cli.Commands;

/// <summary><c>ellsa fast decode|encode</c>: the FAST action codec on its own, for checking chunks by hand.</summary>
public static class FastCommand
{
    public static Command Create()
    {
        var command = new Command("fast",
            "The FAST action codec: FAST ids (the tokenizer's own ids, 0…vocab−1; an action id of the model is fast_base − id) " +
            "to a T×D chunk and back.");
        command.Subcommands.Add(Decode());
        command.Subcommands.Add(Encode());
        return command;
    }

    private static Option<DirectoryInfo> Assets() => new("--assets")
    {
        Description = "FAST assets directory: tokenizer.json and processor_config.json (the model's fast/ folder)",
        Required = true,
    };

    private static Option<FileInfo?> NormStats() => new("--norm-stats")
    {
        Description = "norm_stats.json with q01/q99 per key: decode adds env-unit actions, encode reads env units",
    };

    private static Option<string?> Key() => new("--key")
    {
        Description = "The entry of --norm-stats to use (e.g. libero); optional when the file has one",
    };

    private static Command Decode()
    {
        var assets = Assets();
        var normStats = NormStats();
        var key = Key();
        var ids = new Option<string>("--ids") { Description = "Comma-separated FAST ids, e.g. 482,1168,295,439,261,827", Required = true };
        var command = new Command("decode",
            "Decode FAST ids to {\"normalized\": T×D, \"actions\": T×D (with --norm-stats), \"problems\": [...]}. Malformed ids " +
            "(unknown, invalid UTF-8, too many or too large coefficients) are reported and give the safe no-op chunk.")
        {
            assets, ids, normStats, key,
        };
        command.SetAction(result => ErrorReporting.Run(() =>
        {
            var codec = Load(result.GetValue(assets)!, result.GetValue(normStats), result.GetValue(key));
            var values = ParseIds(result.GetValue(ids)!);
            Console.WriteLine(FastJson.Decode(codec, values));
            return 0;
        }));
        return command;
    }

    private static Command Encode()
    {
        var assets = Assets();
        var normStats = NormStats();
        var key = Key();
        var actions = new Option<FileInfo>("--actions")
        {
            Description = "CHUNK.json: a T×D array (10×7 by default), normalised to [−1, 1], or in env units with --norm-stats",
            Required = true,
        };
        var command = new Command("encode", "Encode an action chunk to {\"ids\": [...]} (DCT, ×scale, round, BPE).")
        {
            assets, actions, normStats, key,
        };
        command.SetAction(result => ErrorReporting.Run(() =>
        {
            var codec = Load(result.GetValue(assets)!, result.GetValue(normStats), result.GetValue(key));
            var chunk = FastJson.ReadActions(result.GetValue(actions)!.FullName, codec.TimeHorizon, codec.ActionDim);
            Console.WriteLine(codec.HasNormStats ? FastJson.EncodeEnvActions(codec, chunk) : FastJson.Encode(codec, chunk));
            return 0;
        }));
        return command;
    }

    private static FastActionCodec Load(DirectoryInfo assets, FileInfo? normStats, string? key)
    {
        if (key is not null && normStats is null)
            throw new UserError("--key needs --norm-stats");
        return FastActionCodec.Load(assets.FullName, new FastCodecOptions { NormStatsPath = normStats?.FullName, NormStatsKey = key });
    }

    private static int[] ParseIds(string text)
    {
        var parts = text.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        var ids = new int[parts.Length];
        for (int i = 0; i < parts.Length; i++)
        {
            if (!int.TryParse(parts[i], out ids[i]))
                throw new UserError($"--ids: item {i} ('{parts[i]}') is not an integer");
        }
        return ids;
    }
}
