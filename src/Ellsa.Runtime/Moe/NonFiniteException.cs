namespace Ellsa.Runtime.Moe;

/// <summary>
/// The network produced NaN or infinity (typically a checkpoint whose weights overflow, such as
/// a LoRA merge with a huge alpha): reported instead of the ids a greedy choice over garbage
/// would give. The message names the position and the head.
/// </summary>
public sealed class NonFiniteException(string message) : InvalidOperationException(message);
