using System.CommandLine;
using System.Text.Json;
using Ellsa.Cli.Infrastructure;
using Ellsa.Runtime.Configuration;
using Ellsa.Runtime.Decoding;
using Ellsa.Runtime.Moe;

namespace Ellsa.Cli.Commands;

/// <summary><c>ellsa forward</c>: per-position logits of a sequence, each from its routed expert's head.</summary>
public static class ForwardCommand
{
    public static Command Create()
    {
        var model = CommonOptions.Model();
        var input = CommonOptions.Input("SEQ.json: {\"segments\": [{\"ids\": [int, …]}, {\"embeddings\": [[float × hidden_size], …]}, …]}, concatenated in order");
        var output = CommonOptions.Output("OUT.json to write: {\"experts\": \"SSV…\", \"logits\": [[…], …]}, one letter and one row per position");
        var device = CommonOptions.Device();
        var threads = CommonOptions.Threads();
        var weights = CommonOptions.Weights();
        var command = new Command("forward",
            "Run one prefill over a sequence and write every position's logits. Each position is routed to the expert " +
            "of the most recent marker (bos, bot: speech; boi, boa: vision); its row is the full vocabulary of that expert's head " +
            "(the speech head includes its extra rows).")
        {
            model, input, output, device, threads, weights,
        };
        command.SetAction(result => ErrorReporting.Run(() => Execute(
            result.GetValue(model)!, result.GetValue(input)!, result.GetValue(output)!, result.GetValue(device)!, result.GetValue(threads), result.GetValue(weights))));
        return command;
    }

    private static int Execute(DirectoryInfo modelDirectory, FileInfo input, FileInfo output, string device, int threads, string? weights)
    {
        using var destination = OutputFile.Open(output.FullName, input.FullName);
        var config = ModelConfig.Load(modelDirectory.FullName);
        SaMoeModel.CheckLoadable(modelDirectory.FullName, config);
        var batch = SequenceFile.Read(input.FullName, config.Speech.HiddenSize, CommonOptions.MaxPositions(config));
        using var backend = CommonOptions.CreateBackend(device, threads);
        using var model = SaMoeModel.Load(modelDirectory.FullName, backend, new LoadProgressDisplay(), CommonOptions.WeightFormatOf(weights));
        var experts = model.Router.RouteAll(batch);
        using var state = model.CreateSequence(batch.Count);
        using (var json = new Utf8JsonWriter(destination.Stream))
        {
            json.WriteStartObject();
            json.WriteString("experts", string.Concat(experts.Select(e => e.Letter())));
            json.WriteStartArray("logits");
            state.Append(batch, new JsonLogitsWriter(json));
            json.WriteEndArray();
            json.WriteEndObject();
        }
        destination.Commit();
        return 0;
    }

    /// <summary>Streams each position's logits straight into the output, so memory stays bounded by one chunk.</summary>
    private sealed class JsonLogitsWriter(Utf8JsonWriter json) : ILogitsSink
    {
        public void Accept(int position, int expert, ReadOnlySpan<float> logits)
        {
            json.WriteStartArray();
            foreach (float value in logits)
                json.WriteNumberValue(value);
            json.WriteEndArray();
            if (json.BytesPending > 1 << 20)
                json.Flush();
        }
    }
}
