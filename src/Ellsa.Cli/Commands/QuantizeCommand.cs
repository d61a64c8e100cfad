using System.CommandLine;
using Ellsa.Cli.Infrastructure;
using Ellsa.Runtime.Weights;

namespace Ellsa.Cli.Commands;

/// <summary><c>ellsa quantize</c>: a copy of a model directory with its projections and heads stored as q8.</summary>
public static class QuantizeCommand
{
    public static Command Create()
    {
        var model = CommonOptions.Model();
        var output = new Option<DirectoryInfo>("--output")
        {
            Description = "Directory to create (or an empty one): the converted model, loadable as it is (ellsa.json weights.format = q8)",
            Required = true,
        };
        var command = new Command("quantize",
            "Write a model directory whose SA-MoE projections and heads are block-quantised int8 (32 values per fp16 scale, llama.cpp's Q8_0): " +
            "each becomes an I8 tensor of its own name plus an F16 tensor NAME.q8_scale. LoRA is merged first; embeddings, norms, biases, " +
            "configs and codec assets are copied. Loading it gives the logits of --weights q8 on the source.")
        {
            model, output,
        };
        command.SetAction(result => ErrorReporting.Run(() => Execute(result.GetValue(model)!, result.GetValue(output)!)));
        return command;
    }

    private static int Execute(DirectoryInfo model, DirectoryInfo output)
    {
        if (Path.GetFullPath(model.FullName).TrimEnd('/') == Path.GetFullPath(output.FullName).TrimEnd('/'))
            throw new UserError($"--output {output.FullName}: is the model directory itself; give a new directory");
        bool created = !output.Exists;
        try
        {
            CheckpointQuantizer.Write(model.FullName, output.FullName, new LoadProgressDisplay("quantizing"));
        }
        catch when (created && Directory.Exists(output.FullName))
        {
            // A failed conversion leaves nothing behind that could later load as a model.
            Directory.Delete(output.FullName, recursive: true);
            throw;
        }
        Console.Error.WriteLine($"wrote {output.FullName}");
        return 0;
    }
}
