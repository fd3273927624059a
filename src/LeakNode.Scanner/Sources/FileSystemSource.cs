using System.IO.Enumeration;
using LeakNode.Scanner.Detection;

namespace LeakNode.Scanner.Sources;

/// <summary>The files of a folder (recursively, without following links or entering <c>.git</c>), or one file.</summary>
internal static class FileSystemSource
{
    public static IEnumerable<ScanItem> Enumerate(string root, ScanLimits limits, DetectorSet detectors, ScanStatistics statistics, Action<string> notice)
    {
        if (File.Exists(root))
        {
            var item = Read(root, Path.GetFileName(root), limits, detectors, statistics, notice);
            if (item is { } single)
            {
                yield return single;
            }
            yield break;
        }

        var options = new EnumerationOptions
        {
            RecurseSubdirectories = true,
            IgnoreInaccessible = true,
            // Links are not followed: a link to a parent folder would loop, and one to elsewhere is outside the target.
            AttributesToSkip = FileAttributes.ReparsePoint,
            ReturnSpecialDirectories = false,
        };
        var files = new FileSystemEnumerable<string>(root, static (ref entry) => entry.ToFullPath(), options)
        {
            ShouldIncludePredicate = static (ref entry) => !entry.IsDirectory,
            ShouldRecursePredicate = static (ref entry) => !entry.FileName.SequenceEqual(".git"),
        };
        foreach (var file in files)
        {
            var relative = Path.GetRelativePath(root, file).Replace('\\', '/');
            var item = Read(file, relative, limits, detectors, statistics, notice);
            if (item is { } found)
            {
                yield return found;
            }
        }
    }

    private static ScanItem? Read(string file, string relative, ScanLimits limits, DetectorSet detectors, ScanStatistics statistics, Action<string> notice)
    {
        if (detectors.IsPathAllowed(relative))
        {
            statistics.AddSkipped();
            return null;
        }
        try
        {
            var length = new FileInfo(file).Length;
            if (length > limits.MaxFileBytes)
            {
                notice($"{relative}: skipped, {length} bytes is over the {limits.MaxFileBytes}-byte file limit");
                return null;
            }
            return new ScanItem(new DocumentOrigin(relative), File.ReadAllBytes(file));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            notice($"{relative}: skipped, unreadable ({e.Message})");
            return null;
        }
    }
}
