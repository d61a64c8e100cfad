using System.CommandLine;
using Ellsa.Cli.Commands;

namespace Ellsa.Cli;

public static class Program
{
    public static int Main(string[] args) => BuildRoot().Parse(args).Invoke();

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
            "  ellsa fast decode --assets weights/tiny/fast --ids 12,40,7");
        root.Subcommands.Add(ForwardCommand.Create());
        root.Subcommands.Add(GenerateCommand.Create());
        root.Subcommands.Add(InspectCommand.Create());
        root.Subcommands.Add(DuplexCommand.Create());
        root.Subcommands.Add(FastCommand.Create());
        return root;
    }
}
