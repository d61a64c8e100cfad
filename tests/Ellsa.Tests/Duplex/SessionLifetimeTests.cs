using Ellsa.Runtime.Duplex;
using Ellsa.Tests.Support;

namespace Ellsa.Tests.Duplex;

/// <summary>
/// A controller's shutdown races (issue 8, item 1): disposing the model or a session while
/// another thread steps, creates sessions or cancels must end in ObjectDisposedException naming
/// what was disposed — never a use-after-free, which kills the whole process. Each race runs
/// enough rounds with real threads to have caught the old failure rates (5/5, 6/8, 2/5).
/// </summary>
public sealed class SessionLifetimeTests
{
    private const int Rounds = 30;

    private static float[][] Audio(Random random, int hidden) =>
        Enumerable.Range(0, 5).Select(_ => Enumerable.Range(0, hidden).Select(_ => (float)(random.NextDouble() - 0.5)).ToArray()).ToArray();

    private static Model LoadTiny() => Model.Load(TestPaths.Tiny, SharedBackends.Cpu);

    /// <summary>Steps <paramref name="session"/> on a new thread until a Step throws; <paramref name="started"/> is set after the first block.</summary>
    private static Thread StepUntilItFails(Session session, float[][] audio, ManualResetEventSlim started, Action<Exception> failed)
    {
        var thread = new Thread(() =>
        {
            try
            {
                var input = BlockInput.FromEmbeddings(audio);
                while (true)
                {
                    session.Step(input);
                    started.Set();
                }
            }
            catch (Exception e)
            {
                failed(e);
            }
            finally
            {
                started.Set();
            }
        });
        thread.Start();
        return thread;
    }

    [Fact]
    public void DisposingTheModelWhileAnotherThreadStepsEndsThatThreadWithObjectDisposed()
    {
        var random = new Random(1);
        for (int round = 0; round < Rounds; round++)
        {
            var model = LoadTiny();
            var session = model.CreateSession();
            using var started = new ManualResetEventSlim();
            Exception? failure = null;
            var stepper = StepUntilItFails(session, Audio(random, 64), started, e => failure = e);
            started.Wait();
            Thread.Sleep(random.Next(0, 8));
            model.Dispose();
            Assert.True(stepper.Join(TimeSpan.FromSeconds(30)), $"round {round}: the stepping thread did not stop");
            var disposed = Assert.IsType<ObjectDisposedException>(failure);
            Assert.Equal(nameof(Model), disposed.ObjectName);
            Assert.True(model.IsDisposed);
            session.Dispose();
        }
    }

    [Fact]
    public void DisposingASessionWhileAnotherThreadStepsItEndsThatThreadWithObjectDisposed()
    {
        var random = new Random(2);
        using var model = LoadTiny();
        for (int round = 0; round < Rounds; round++)
        {
            var session = model.CreateSession();
            using var started = new ManualResetEventSlim();
            Exception? failure = null;
            var stepper = StepUntilItFails(session, Audio(random, 64), started, e => failure = e);
            started.Wait();
            Thread.Sleep(random.Next(0, 8));
            session.Dispose();
            Assert.True(stepper.Join(TimeSpan.FromSeconds(30)), $"round {round}: the stepping thread did not stop");
            var disposed = Assert.IsType<ObjectDisposedException>(failure);
            Assert.Equal(nameof(Session), disposed.ObjectName);
        }
        // The model is unharmed by its sessions' disposal.
        using var fresh = model.CreateSession();
        Assert.Equal(0, fresh.Step(BlockInput.FromEmbeddings(Audio(random, 64))).Block);
    }

    [Fact]
    public void CreatingSessionsWhileTheModelIsDisposedEndsInObjectDisposed()
    {
        var random = new Random(3);
        for (int round = 0; round < Rounds; round++)
        {
            var model = LoadTiny();
            var audio = Audio(random, 64);
            using var started = new ManualResetEventSlim();
            Exception? failure = null;
            var creator = new Thread(() =>
            {
                try
                {
                    while (true)
                    {
                        using var session = model.CreateSession();
                        started.Set();
                        session.Step(BlockInput.FromEmbeddings(audio));
                    }
                }
                catch (Exception e)
                {
                    failure = e;
                }
                finally
                {
                    started.Set();
                }
            });
            creator.Start();
            started.Wait();
            Thread.Sleep(random.Next(0, 8));
            model.Dispose();
            Assert.True(creator.Join(TimeSpan.FromSeconds(30)), $"round {round}: the creating thread did not stop");
            var disposed = Assert.IsType<ObjectDisposedException>(failure);
            Assert.Equal(nameof(Model), disposed.ObjectName);
        }
    }

    [Fact]
    public void CancelRacingDisposeEndsInObjectDisposedAndNeverReportsABlockAfterwards()
    {
        var random = new Random(4);
        using var model = LoadTiny();
        for (int round = 0; round < Rounds; round++)
        {
            var session = model.CreateSession();
            using var started = new ManualResetEventSlim();
            Exception? failure = null;
            var canceller = new Thread(() =>
            {
                var clock = System.Diagnostics.Stopwatch.StartNew();
                try
                {
                    while (clock.Elapsed < TimeSpan.FromSeconds(10))
                    {
                        session.Cancel();
                        started.Set();
                    }
                }
                catch (Exception e)
                {
                    failure = e;
                }
                finally
                {
                    started.Set();
                }
            });
            canceller.Start();
            started.Wait();
            Thread.Sleep(random.Next(0, 3));
            session.Dispose();
            Assert.True(canceller.Join(TimeSpan.FromSeconds(30)));
            var disposed = Assert.IsType<ObjectDisposedException>(failure);
            Assert.Equal(nameof(Session), disposed.ObjectName);
        }
    }

    [Fact]
    public void EverythingAfterDisposeIsObjectDisposedAndDisposeIsIdempotent()
    {
        var random = new Random(5);
        var model = LoadTiny();
        var session = model.CreateSession();
        var input = BlockInput.FromEmbeddings(Audio(random, 64));
        session.Step(input);

        session.Dispose();
        session.Dispose();
        Assert.Equal(nameof(Session), Assert.Throws<ObjectDisposedException>(() => session.Step(input)).ObjectName);
        Assert.Equal(nameof(Session), Assert.Throws<ObjectDisposedException>(() => session.Cancel()).ObjectName);

        var orphan = model.CreateSession();
        model.Dispose();
        model.Dispose();
        Assert.Equal(nameof(Model), Assert.Throws<ObjectDisposedException>(() => model.CreateSession()).ObjectName);
        Assert.Equal(nameof(Model), Assert.Throws<ObjectDisposedException>(() => orphan.Step(input)).ObjectName);
        // A session outliving its model can still be cancelled and disposed (it frees only its own cache).
        Assert.Equal(0, orphan.Cancel().Block);
        orphan.Dispose();
        Assert.Equal(nameof(Ellsa.Runtime.Moe.SaMoeModel),
            Assert.Throws<ObjectDisposedException>(() => model.Network.CreateSequence(8)).ObjectName);
    }
}
