namespace Ellsa.Runtime.Codecs.Text;

/// <summary>An entry of tokenizer.json's <c>added_tokens</c>.</summary>
/// <param name="Normalized">HF matches non-normalized tokens first, then normalized ones.</param>
internal sealed record AddedToken(int Id, string Content, bool Special, bool Normalized);
