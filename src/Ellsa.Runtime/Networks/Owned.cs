namespace Ellsa.Runtime.Networks;

/// <summary>The device objects and host buffers a network's weight scope made, freed with the network.</summary>
internal static class Owned
{
    /// <summary>Disposes every item once and empties the list (also what a failed load calls).</summary>
    public static void DisposeAll(List<IDisposable> items)
    {
        foreach (var item in items)
            item.Dispose();
        items.Clear();
    }
}
