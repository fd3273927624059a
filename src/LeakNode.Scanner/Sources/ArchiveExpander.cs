using System.Formats.Tar;
using System.IO.Compression;

namespace LeakNode.Scanner.Sources;

/// <summary>
/// Opens zip, tar and gzip (tar.gz, or a single gzipped file) content found anywhere in a scan, nested to
/// <see cref="ScanLimits.MaxArchiveDepth"/>, and yields its entries as documents named <c>archive!entry</c>.
/// Archives are recognised by their magic bytes, not their names: a <c>.jar</c> or a <c>.docx</c> is a zip too.
/// </summary>
/// <remarks>
/// Header sizes are never trusted: every entry is read through a stream that stops at the entry cap, the archive's
/// remaining budget (<see cref="ScanLimits.MaxArchiveExpandedBytes"/>) and, for compressed data, the expansion
/// ratio, so a forged or bombed archive costs at most the budget.
/// </remarks>
internal static class ArchiveExpander
{
    private const string Separator = "!";

    public enum Format
    {
        None,
        Zip,
        Tar,
        Gzip,
    }

    public static Format Detect(ReadOnlySpan<byte> content)
    {
        if (content.Length >= 4 && content[0] == 'P' && content[1] == 'K' && ((content[2] == 3 && content[3] == 4) || (content[2] == 5 && content[3] == 6)))
        {
            return Format.Zip;
        }
        if (content.Length >= 3 && content[0] == 0x1f && content[1] == 0x8b && content[2] == 8)
        {
            return Format.Gzip;
        }
        // POSIX and GNU tar write "ustar" at offset 257 of the first header.
        if (content.Length >= 262 && content.Slice(257, 5).SequenceEqual("ustar"u8))
        {
            return Format.Tar;
        }
        return Format.None;
    }

    /// <summary>The archive's entries. Throws <see cref="InvalidDataException"/> when the archive is unreadable.</summary>
    public static IEnumerable<ScanItem> Expand(ScanItem archive, Format format, ScanLimits limits, ArchiveBudget budget, Action<string> notice)
    {
        return format switch
        {
            Format.Zip => ExpandZip(archive, limits, budget, notice),
            Format.Tar => ExpandTar(archive, new MemoryStream(archive.Content, writable: false), limits, budget, notice),
            Format.Gzip => ExpandGzip(archive, limits, budget, notice),
            _ => [],
        };
    }

    private static IEnumerable<ScanItem> ExpandZip(ScanItem archive, ScanLimits limits, ArchiveBudget budget, Action<string> notice)
    {
        using var zip = new ZipArchive(new MemoryStream(archive.Content, writable: false), ZipArchiveMode.Read);
        foreach (var entry in zip.Entries)
        {
            if (entry.FullName.EndsWith('/'))
            {
                continue;
            }
            var path = archive.Origin.Path + Separator + entry.FullName;
            if (entry.Length > limits.MaxFileBytes)
            {
                notice($"{path}: skipped, {entry.Length} bytes is over the {limits.MaxFileBytes}-byte file limit");
                continue;
            }
            if (entry.CompressedLength > 0 && entry.Length / (double)entry.CompressedLength > limits.MaxExpansionRatio)
            {
                notice($"{path}: skipped, expands {entry.Length / entry.CompressedLength}:1, over the {limits.MaxExpansionRatio}:1 ratio limit (compression bomb?)");
                continue;
            }
            byte[]? content;
            using (var stream = entry.Open())
            {
                content = ReadCapped(stream, path, limits, budget, ratioBase: entry.CompressedLength, notice);
            }
            if (content is not null)
            {
                yield return new ScanItem(archive.Origin with { Path = path }, content);
            }
        }
    }

    private static IEnumerable<ScanItem> ExpandGzip(ScanItem archive, ScanLimits limits, ArchiveBudget budget, Action<string> notice)
    {
        byte[]? inflated;
        using (var gzip = new GZipStream(new MemoryStream(archive.Content, writable: false), CompressionMode.Decompress))
        {
            // A .tar.gz may expand past one file's limit and still be fine: its entries are checked one by one.
            var cap = new ScanLimits
            {
                MaxFileBytes = Math.Min(budget.Remaining, limits.MaxArchiveExpandedBytes),
                MaxExpansionRatio = limits.MaxExpansionRatio,
            };
            inflated = ReadCapped(gzip, archive.Origin.Path, cap, budget, ratioBase: archive.Content.Length, notice);
        }
        if (inflated is null)
        {
            yield break;
        }
        if (Detect(inflated) == Format.Tar)
        {
            foreach (var item in ExpandTar(archive, new MemoryStream(inflated, writable: false), limits, budget, notice))
            {
                yield return item;
            }
            yield break;
        }
        var name = Path.GetFileName(archive.Origin.Path.Split(Separator)[^1]);
        var inner = name.EndsWith(".gz", StringComparison.OrdinalIgnoreCase) ? name[..^3] : name + ".ungz";
        yield return new ScanItem(archive.Origin with { Path = archive.Origin.Path + Separator + inner }, inflated);
    }

    private static IEnumerable<ScanItem> ExpandTar(ScanItem archive, Stream stream, ScanLimits limits, ArchiveBudget budget, Action<string> notice)
    {
        using var reader = new TarReader(stream, leaveOpen: false);
        TarEntry? entry;
        while ((entry = reader.GetNextEntry()) is not null)
        {
            if (entry.EntryType is not (TarEntryType.RegularFile or TarEntryType.V7RegularFile or TarEntryType.ContiguousFile) || entry.DataStream is null)
            {
                continue;
            }
            var path = archive.Origin.Path + Separator + entry.Name;
            if (entry.Length > limits.MaxFileBytes)
            {
                notice($"{path}: skipped, {entry.Length} bytes is over the {limits.MaxFileBytes}-byte file limit");
                continue;
            }
            var content = ReadCapped(entry.DataStream, path, limits, budget, ratioBase: 0, notice);
            if (content is not null)
            {
                yield return new ScanItem(archive.Origin with { Path = path }, content);
            }
        }
    }

    /// <summary>Reads a stream to its end unless a cap is reached first; then names the cap and returns null.</summary>
    private static byte[]? ReadCapped(Stream stream, string path, ScanLimits limits, ArchiveBudget budget, long ratioBase, Action<string> notice)
    {
        var cap = Math.Min(limits.MaxFileBytes, budget.Remaining);
        if (ratioBase > 0)
        {
            cap = Math.Min(cap, (long)(ratioBase * limits.MaxExpansionRatio));
        }
        using var buffer = new MemoryStream();
        var chunk = new byte[81920];
        int read;
        while ((read = stream.Read(chunk)) > 0)
        {
            if (buffer.Length + read > cap)
            {
                var reason = cap == budget.Remaining
                    ? $"the archive's {limits.MaxArchiveExpandedBytes}-byte expansion budget is spent"
                    : ratioBase > 0 && cap == (long)(ratioBase * limits.MaxExpansionRatio)
                        ? $"it expands past the {limits.MaxExpansionRatio}:1 ratio limit (compression bomb?)"
                        : $"it is over the {limits.MaxFileBytes}-byte file limit";
                notice($"{path}: skipped, {reason}");
                budget.Spend(buffer.Length);
                return null;
            }
            buffer.Write(chunk, 0, read);
        }
        budget.Spend(buffer.Length);
        return buffer.ToArray();
    }
}

/// <summary>The bytes one top-level archive may still expand to, shared by all its nested archives.</summary>
internal sealed class ArchiveBudget(long bytes)
{
    public long Remaining { get; private set; } = bytes;

    public void Spend(long bytes) => Remaining = Math.Max(0, Remaining - bytes);
}
