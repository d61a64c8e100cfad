// The CPU backend spins worker threads between operations; running test classes in parallel on
// two cores would make them fight for the cores and slow everything down.
[assembly: Xunit.CollectionBehavior(DisableTestParallelization = true)]
