using System.Runtime.InteropServices;

namespace LeakNode.Cli;

/// <summary>Waits for Ctrl+C (the command's cancellation token) or SIGTERM (docker stop, Kubernetes), whichever comes first.</summary>
internal static class Shutdown
{
    public static async Task WaitAsync(CancellationToken cancellation)
    {
        var stopped = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var registration = cancellation.Register(() => stopped.TrySetResult());
        using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, context =>
        {
            context.Cancel = true;
            stopped.TrySetResult();
        });
        await stopped.Task;
    }
}
