using System.CommandLine;
using Ellsa.Kernels.Backend;
using Ellsa.Runtime.Backends;
using Ellsa.Runtime.Configuration;

namespace Ellsa.Cli.Infrastructure;

/// <summary>Options several commands share, with the help text that teaches them.</summary>
public static class CommonOptions
{
    public static Option<DirectoryInfo> Model() => new("--model")
    {
        Description = "Model directory: config.json, vision_config.json, optional ellsa.json, and model.safetensors or model.safetensors.index.json with its shards",
        Required = true,
    };

    public static Option<FileInfo> Input(string what) => new("--input")
    {
        Description = what,
        Required = true,
    };

    public static Option<FileInfo> Output(string what) => new("--output")
    {
        Description = what,
        Required = true,
    };

    public static Option<string> Device()
    {
        var option = new Option<string>("--device")
        {
            Description = "Where to run: auto (CUDA when present, else CPU), cpu, cuda (an NVIDIA GPU through the ILGPU kernels), " +
                          "ilgpu-cpu (the same GPU kernels on ILGPU's CPU simulator: very slow, for checking them without a GPU)",
            DefaultValueFactory = _ => "auto",
        };
        option.AcceptOnlyFromAmong(DeviceKinds.Names);
        return option;
    }

    public static Option<string?> Weights()
    {
        var option = new Option<string?>("--weights")
        {
            Description = "How the projection matrices are held: bf16 (as the checkpoint stores them), bf16-packed (the same bf16 values packed " +
                          "losslessly to 12 bits at load, 3/4 of the memory and bytes per token; CPU only) or q8 (block-quantised int8, " +
                          "32 values per fp16 scale, made at load; about half the memory and bytes per token). Default: ellsa.json weights.format, else bf16",
        };
        // Checked here, not by AcceptOnlyFromAmong, so that the error names the flag.
        option.Validators.Add(result =>
        {
            string? text = result.Tokens.Count > 0 ? result.Tokens[^1].Value : null;
            if (text is not null && !WeightSettings.TryParse(text, out _))
                result.AddError($"--weights {text}: expected bf16, bf16-packed or q8");
        });
        return option;
    }

    /// <summary>The format --weights asked for; null leaves it to ellsa.json.</summary>
    public static WeightFormat? WeightFormatOf(string? weights) =>
        weights is null ? null : WeightSettings.TryParse(weights, out var format) ? format : throw new UserError($"--weights {weights}: expected bf16, bf16-packed or q8");

    public static Option<int> Threads() => new("--threads")
    {
        Description = "CPU threads (default: one per core; more than the processor count is capped at it)",
        DefaultValueFactory = _ => 0,
    };

    /// <summary>
    /// Positions a sequence may reach: one global counter runs through both experts' RoPE, so the
    /// smaller max_position_embeddings bounds it.
    /// </summary>
    public static int MaxPositions(ModelConfig config) =>
        Math.Min(config.Speech.MaxPositionEmbeddings, config.Vision.MaxPositionEmbeddings);

    /// <summary>Creates the backend and says on stderr which one runs.</summary>
    public static IComputeBackend CreateBackend(string device, int threads)
    {
        if (threads < 0)
            throw new UserError($"--threads {threads}: must be 0 (one per core) or more");
        // More workers than processors only spin against each other.
        if (threads > Environment.ProcessorCount)
        {
            Console.Error.WriteLine($"note: --threads {threads} capped at {Environment.ProcessorCount}, the processor count");
            threads = Environment.ProcessorCount;
        }
        var backend = BackendFactory.Create(DeviceKinds.Parse(device), threads, out string choice);
        Console.Error.WriteLine($"device: {choice}");
        return backend;
    }
}
