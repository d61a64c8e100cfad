using Microsoft.CodeAnalysis;

namespace Ellsa.Kernels.PtxText;

/// <summary>
/// Writes the generated halves of <c>PtxMmaCore</c> and <c>PtxAttentionCore</c> into
/// Ellsa.Kernels. The PTX depends on nothing in the compilation, so it is produced once per
/// generator instance, as post-initialisation output.
/// </summary>
[Generator(LanguageNames.CSharp)]
public sealed class PtxTextGenerator : IIncrementalGenerator
{
    public void Initialize(IncrementalGeneratorInitializationContext context) =>
        context.RegisterPostInitializationOutput(output =>
        {
            output.AddSource("PtxMmaCore.g.cs", MmaCoreText.Source());
            output.AddSource("PtxAttentionCore.g.cs", AttentionCoreText.Source());
        });
}
