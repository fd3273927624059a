using Microsoft.Extensions.Logging;

namespace LeakNode.Scanner;

public sealed partial class SecretScanner
{
    /// <summary>Event ids of the scanner, in one place (1xxx: LeakNode.Scanner).</summary>
    private static partial class Log
    {
        [LoggerMessage(EventId = 1001, Level = LogLevel.Information, Message = "Scanning {Target} as {Kind}")]
        public static partial void ScanStarted(ILogger logger, string target, string kind);

        [LoggerMessage(EventId = 1002, Level = LogLevel.Warning, Message = "Skipped: {Notice}")]
        public static partial void Skipped(ILogger logger, string notice);

        [LoggerMessage(EventId = 1003, Level = LogLevel.Information, Message = "Scan of {Target} done: {Documents} documents, {Bytes} bytes, {Findings} findings in {Milliseconds} ms")]
        public static partial void ScanDone(ILogger logger, string target, long documents, long bytes, int findings, long milliseconds);

        [LoggerMessage(EventId = 1004, Level = LogLevel.Information, Message = "Note: {Note}")]
        public static partial void Noted(ILogger logger, string note);
    }
}
