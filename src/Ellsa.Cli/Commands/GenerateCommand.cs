using System.CommandLine;
using System.Text.Json;
using Ellsa.Cli.Infrastructure;
using Ellsa.Runtime.Configuration;
using Ellsa.Runtime.Decoding;
using Ellsa.Runtime.Moe;

namespace Ellsa.Cli.Commands;

/// <summary><c>ellsa generate</c>: one block's greedy decode, text then actions (00-design.md §5).</summary>
public static class GenerateCommand
{
    public static Command Create()
    {
        var model = CommonOptions.Model();
        var input = CommonOptions.Input("SEQ.json with the block's prompt, normally ending in <bot>: {\"segments\": [{\"ids\": […]}, {\"embeddings\": [[…], …]}, …]}");
        var output = CommonOptions.Output("OUT.json to write: {\"text_ids\": […], \"action_ids\": [boa, …]}");
        var maxText = new Option<int>("--max-text") { Description = "Text tokens at most, eot included (40 when acting, 9 in speech-only dialogue)", DefaultValueFactory = _ => 40 };
        var maxAction = new Option<int>("--max-action") { Description = "Action ids at most, boa and eoa included", DefaultValueFactory = _ => 40 };
        var device = CommonOptions.Device();
        var threads = CommonOptions.Threads();
        var weights = CommonOptions.Weights();
        var command = new Command("generate",
            "Prefill the sequence, then decode one block exactly as the reference: greedy text from the speech head until eot " +
            "(the first token is never tested), the last text token fed once more, then a forced boa and greedy actions from the " +
            "vision head restricted to [action_first, action_last] and eoa, until eoa.")
        {
            model, input, output, maxText, maxAction, device, threads, weights,
        };
        command.SetAction(result => ErrorReporting.Run(() => Execute(
            result.GetValue(model)!, result.GetValue(input)!, result.GetValue(output)!,
            result.GetValue(maxText), result.GetValue(maxAction), result.GetValue(device)!, result.GetValue(threads), result.GetValue(weights))));
        return command;
    }

    /// <summary>Far beyond a block's needs (40 and 40 when acting), low enough that the decode budget stays small.</summary>
    public const int MaxDecodeIds = 4096;

    private static int Execute(DirectoryInfo modelDirectory, FileInfo input, FileInfo output, int maxText, int maxAction, string device, int threads, string? weights)
    {
        if (maxText is < 1 or > MaxDecodeIds)
            throw new UserError($"--max-text {maxText}: must be 1…{MaxDecodeIds}");
        if (maxAction is < 1 or > MaxDecodeIds)
            throw new UserError($"--max-action {maxAction}: must be 1…{MaxDecodeIds}");
        using var destination = OutputFile.Open(output.FullName, input.FullName);
        var config = ModelConfig.Load(modelDirectory.FullName);
        SaMoeModel.CheckLoadable(modelDirectory.FullName, config);
        int maxPositions = CommonOptions.MaxPositions(config);
        var batch = SequenceFile.Read(input.FullName, config.Speech.HiddenSize, maxPositions);
        var limits = new DecodeLimits(maxText, maxAction);
        int capacity = batch.Count + BlockDecoder.MaxNewPositions(limits);
        if (capacity > maxPositions)
            throw new UserError(
                $"--max-text {maxText} and --max-action {maxAction}: the sequence's {batch.Count} positions and up to {BlockDecoder.MaxNewPositions(limits)} decoded ones exceed max_position_embeddings {maxPositions}");
        using var backend = CommonOptions.CreateBackend(device, threads);
        using var model = SaMoeModel.Load(modelDirectory.FullName, backend, new LoadProgressDisplay(), CommonOptions.WeightFormatOf(weights));
        var decoder = new BlockDecoder(model);
        using var state = model.CreateSequence(capacity);
        var result = decoder.Generate(state, batch, limits);
        using (var json = new Utf8JsonWriter(destination.Stream))
        {
            json.WriteStartObject();
            json.WriteStartArray("text_ids");
            foreach (int id in result.TextIds)
                json.WriteNumberValue(id);
            json.WriteEndArray();
            json.WriteStartArray("action_ids");
            foreach (int id in result.ActionIds)
                json.WriteNumberValue(id);
            json.WriteEndArray();
            json.WriteEndObject();
        }
        destination.Commit();
        return 0;
    }
}
