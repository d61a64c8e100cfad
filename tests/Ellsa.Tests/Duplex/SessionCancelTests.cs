using Ellsa.Runtime.Duplex;
using Ellsa.Tests.Support;

namespace Ellsa.Tests.Duplex;

/// <summary>
/// Cancel() semantics (issue 8, item 7): it cancels the block being stepped — computing, or
/// waiting for the model while another session computes — or, when none is, the next block;
/// never one already delivered. Checked with real threads.
/// </summary>
public sealed class SessionCancelTests : IClassFixture<SessionGoldenTests.TinyModel>
{
    private readonly Model _model;
    private readonly Random _random = new(8);

    public SessionCancelTests(SessionGoldenTests.TinyModel fixture) => _model = fixture.Model;

    private BlockInput Block() => BlockInput.FromEmbeddings(
        Enumerable.Range(0, 5).Select(_ => Enumerable.Range(0, 64).Select(_ => (float)(_random.NextDouble() - 0.5)).ToArray()).ToArray());

    [Fact]
    public void CancelWhileTheNextStepWaitsForTheModelCancelsThatStepNotTheDeliveredOne()
    {
        using var session = _model.CreateSession();
        var delivered = session.Step(Block());
        Assert.False(delivered.Has(BlockEventKind.Cancelled));

        BlockResult? waiting = null;
        var input = Block();
        Thread stepper;
        CancelReport report;
        // Another session's block holds the model: this session's Step is called and waits for it.
        lock (_model.ComputeGate)
        {
            stepper = new Thread(() => waiting = session.Step(input));
            stepper.Start();
            Thread.Sleep(200);
            report = session.Cancel();
        }
        Assert.True(stepper.Join(TimeSpan.FromSeconds(30)));
        Assert.Equal(new CancelReport(1, InFlight: true), report);
        Assert.True(waiting!.Has(BlockEventKind.Cancelled));
        Assert.False(session.Step(Block()).Has(BlockEventKind.Cancelled));
    }

    [Fact]
    public void CancelBetweenBlocksCancelsTheNextBlockOnce()
    {
        using var session = _model.CreateSession();
        session.Step(Block());
        Assert.Equal(new CancelReport(1, InFlight: false), session.Cancel());
        Assert.Equal(new CancelReport(1, InFlight: false), session.Cancel());
        Assert.True(session.Step(Block()).Has(BlockEventKind.Cancelled));
        Assert.False(session.Step(Block()).Has(BlockEventKind.Cancelled));
    }

    [Fact]
    public void ACancelledBlockThatIsRefusedPassesTheCancelToTheBlockThatReplacesIt()
    {
        using var session = _model.CreateSession();
        session.Cancel();
        Assert.Throws<ArgumentException>(() => session.Step(BlockInput.FromEmbeddings([[1f]])));
        Assert.True(session.Step(Block()).Has(BlockEventKind.Cancelled));
    }

    [Fact]
    public void RacingCancelAgainstSteppingCancelsExactlyTheReportedBlock()
    {
        const int Rounds = 20, BlocksPerRound = 3;
        var inputs = Enumerable.Range(0, BlocksPerRound).Select(_ => Block()).ToArray();
        for (int round = 0; round < Rounds; round++)
        {
            using var session = _model.CreateSession(new SessionOptions { ContextLimit = 300 });
            var results = new BlockResult[BlocksPerRound];
            using var started = new ManualResetEventSlim();
            var stepper = new Thread(() =>
            {
                started.Set();
                for (int b = 0; b < BlocksPerRound; b++)
                    results[b] = session.Step(inputs[b]);
            });
            stepper.Start();
            started.Wait();
            Thread.Sleep(_random.Next(0, 25));
            var report = session.Cancel();
            Assert.True(stepper.Join(TimeSpan.FromSeconds(30)));
            var cancelled = Enumerable.Range(0, BlocksPerRound).Where(b => results[b].Has(BlockEventKind.Cancelled)).ToArray();
            if (report.Block < BlocksPerRound)
                Assert.Equal([report.Block], cancelled);
            else
                Assert.Empty(cancelled); // every block was delivered before Cancel: it waits for the next
        }
    }
}
