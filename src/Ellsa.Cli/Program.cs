using System.CommandLine;
using System.CommandLine.Parsing;
using Ellsa.Cli.Infrastructure;
using Ellsa.Cli.Commands;

namespace Ellsa.Cli;

public static class Program
{
    public static int Main(string[] args)
    {
        var parsed = BuildRoot().Parse(args);
        // System.CommandLine prints its parse errors with help and exits 1, and with --help it drops
        // them and prints help even for an unknown command; the CLI's contract is one "error:" line and
        // exit 2 for any bad command line.
        var problems = parsed.Errors.Select(e => e.Message.TrimEnd('.'))
            .Concat(parsed.UnmatchedTokens.Select(token => $"Unrecognized command or argument '{token}'"))
            .Distinct()
            .ToList();
        if (problems.Count > 0)
        {
            Console.Error.WriteLine($"error: {string.Join("; ", problems)} (see {CommandPath(parsed.CommandResult)} --help)");
            return ErrorReporting.UsageError;
        }
        // The commands handle SIGINT/SIGTERM themselves (Interruption: finish the block in progress,
        // keep every finished one, exit 130/143). System.CommandLine's own handling would end the
        // process with its own status 2 s after the signal, in the middle of a slow block.
        return parsed.Invoke(new InvocationConfiguration { ProcessTerminationTimeout = null });
    }

    private static string CommandPath(CommandResult result) =>
        result.Parent is CommandResult parent ? $"{CommandPath(parent)} {result.Command.Name}" : "ellsa";

    public static RootCommand BuildRoot()
    {
        var root = new RootCommand(
            "ellsa: a streaming runtime for ELLSA (End-to-end Listen, Look, Speak and Act). One SA-MoE model with a " +
            "Llama-3.1-8B speech/text expert and an Emu3 vision/action expert over one shared KV cache.\n\n" +
            "Examples:\n" +
            "  ellsa inspect --model weights/tiny\n" +
            "  ellsa forward --model weights/tiny --input seq.json --output logits.json\n" +
            "  ellsa generate --model weights/tiny --input seq.json --output ids.json --max-text 9\n" +
            "  ellsa duplex --model weights/tiny --input session.json --output timeline.jsonl\n" +
            "  ellsa fast decode --assets weights/tiny/fast --ids 12,40,7\n" +
            "  ellsa look --model weights/tiny --image frame.png --output codes.json\n" +
            "  ellsa listen --model weights/tiny --audio question.wav --output embeddings.json\n" +
            "  ellsa speak --model weights/tiny --tokens tokens.json --output speech.json --wav speech.wav");
        root.Subcommands.Add(ForwardCommand.Create());
        root.Subcommands.Add(GenerateCommand.Create());
        root.Subcommands.Add(InspectCommand.Create());
        root.Subcommands.Add(QuantizeCommand.Create());
        root.Subcommands.Add(DuplexCommand.Create());
        root.Subcommands.Add(FastCommand.Create());
        root.Subcommands.Add(LookCommand.Create());
        root.Subcommands.Add(ListenCommand.Create());
        root.Subcommands.Add(SpeakCommand.Create());
        return root;
    }
}
