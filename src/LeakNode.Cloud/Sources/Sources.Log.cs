using LeakNode.Cloud.Diagnostics;
using Microsoft.Extensions.Logging;

namespace LeakNode.Cloud.Sources;

// Scans are logged by source id, URL and counts: never a finding's secret (it is the token itself) nor its preview.

internal sealed partial class FindingIngest
{
    private static partial class Log
    {
        [LoggerMessage(EventIds.FindingsFiled, LogLevel.Information,
            "Filed {Findings} findings of {Source}: {NewLeaks} new leaks, {UpdatedLeaks} leaks updated, {Ignored} ignored (not a token)")]
        public static partial void Ingested(ILogger logger, int findings, int ignored, int newLeaks, int updatedLeaks, string source);
    }
}

internal sealed partial class ScanWorker
{
    private static partial class Log
    {
        [LoggerMessage(EventIds.SourceScanStarted, LogLevel.Information, "Scan {RunId} of source {SourceId} ({Url}) started ({Cause}, {Mode})")]
        public static partial void Started(ILogger logger, string runId, string sourceId, string url, string cause, string mode);

        [LoggerMessage(EventIds.SourceScanFinished, LogLevel.Information,
            "Scan {RunId} of source {SourceId} finished in {Elapsed}: {Documents} documents, {Bytes} bytes, {Findings} findings, {NewLeaks} new leaks, {UpdatedLeaks} updated")]
        public static partial void Finished(ILogger logger, string runId, string sourceId, TimeSpan elapsed, long documents, long bytes, int findings, int newLeaks, int updatedLeaks);

        [LoggerMessage(EventIds.SourceScanFailed, LogLevel.Warning, "Scan {RunId} of source {SourceId} ({Url}) failed: {Error}")]
        public static partial void Failed(ILogger logger, string runId, string sourceId, string url, string error);

        [LoggerMessage(EventIds.SourceClaimLost, LogLevel.Warning, "Scan of source {SourceId} stopped: this replica no longer owns it (its lease ran out, or the source was deleted)")]
        public static partial void ClaimLost(ILogger logger, string sourceId);

        [LoggerMessage(EventIds.ScanWorkerFailed, LogLevel.Error, "The scan worker failed; it tries again at the next poll")]
        public static partial void WorkerFailed(ILogger logger, Exception error);
    }
}
