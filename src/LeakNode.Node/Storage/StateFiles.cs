using System.Buffers.Binary;
using System.Security.Cryptography;

namespace LeakNode.Node.Storage;

/// <summary>
/// How the node writes what it keeps in <c>StateDir</c>: owner-only files, replaced whole by write-to-temp, flush
/// to disk, rename (so that a crash leaves the old file or the new one, never half of one), and checksummed records
/// for files that grow by appending (so that a crash in the middle of an append is recognised and cut off).
/// </summary>
internal static class StateFiles
{
    /// <summary>A record's header: its payload length (4 bytes, little-endian) and the first 4 bytes of the payload's SHA-256.</summary>
    private const int RecordHeader = 8;

    /// <summary>No record the node writes comes near this (a snapshot part is at most about 4 MB); a larger length is a torn or foreign file.</summary>
    private const int MaxRecordBytes = 64 << 20;

    /// <summary>Creates <paramref name="path"/> (and its parents) readable by the owner only: it may hold the deployment key.</summary>
    public static void CreateDirectory(string path)
    {
        if (OperatingSystem.IsWindows())
        {
            Directory.CreateDirectory(path);
        }
        else
        {
            Directory.CreateDirectory(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }
    }

    /// <summary>Options for a file only its owner may read or write (the mode applies when the file is created).</summary>
    public static FileStreamOptions OwnerOnly(FileMode mode, FileAccess access, int bufferSize = 1 << 16)
    {
        // Readers let the one writer go on (the rule cache reads its log back while it holds it open for appends).
        var share = access == FileAccess.Read ? FileShare.ReadWrite : FileShare.Read;
        var options = new FileStreamOptions { Mode = mode, Access = access, Share = share, BufferSize = bufferSize };
        if (!OperatingSystem.IsWindows() && mode != FileMode.Open)
        {
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }
        return options;
    }

    /// <summary>Replaces <paramref name="path"/> whole with what <paramref name="write"/> writes: to a temporary file, flushed to disk, then renamed over it.</summary>
    /// <remarks>
    /// The rename is atomic, so readers see the old file or the new one. Its directory entry reaches the disk on the
    /// file system's own schedule (.NET cannot flush a directory): after a power cut the node may come back with the
    /// previous file, which is still whole, and tells the cloud the older version it then has.
    /// </remarks>
    public static void ReplaceAtomically(string path, Action<FileStream> write)
    {
        var temp = path + ".tmp";
        using (var file = new FileStream(temp, OwnerOnly(FileMode.Create, FileAccess.Write)))
        {
            write(file);
            file.Flush(flushToDisk: true);
        }
        File.Move(temp, path, overwrite: true);
    }

    /// <summary>Writes one checksummed record.</summary>
    public static void WriteRecord(Stream stream, ReadOnlySpan<byte> payload)
    {
        Span<byte> header = stackalloc byte[RecordHeader];
        BinaryPrimitives.WriteInt32LittleEndian(header, payload.Length);
        Checksum(payload).CopyTo(header[4..]);
        stream.Write(header);
        stream.Write(payload);
    }

    /// <summary>
    /// Reads the next record. Returns null at the end of the stream, and also at a torn or corrupt record (a crash in
    /// the middle of an append): <paramref name="torn"/> says which, and everything before it is whole.
    /// </summary>
    public static byte[]? ReadRecord(Stream stream, out bool torn)
    {
        torn = false;
        Span<byte> header = stackalloc byte[RecordHeader];
        var read = stream.ReadAtLeast(header, RecordHeader, throwOnEndOfStream: false);
        if (read == 0)
        {
            return null;
        }
        var length = BinaryPrimitives.ReadInt32LittleEndian(header);
        if (read < RecordHeader || length is < 0 or > MaxRecordBytes)
        {
            torn = true;
            return null;
        }
        var payload = new byte[length];
        if (stream.ReadAtLeast(payload, length, throwOnEndOfStream: false) < length || !Checksum(payload).AsSpan().SequenceEqual(header[4..]))
        {
            torn = true;
            return null;
        }
        return payload;
    }

    /// <summary>Reads and checks a file's leading magic bytes.</summary>
    public static bool ReadMagic(Stream stream, ReadOnlySpan<byte> magic)
    {
        Span<byte> read = stackalloc byte[magic.Length];
        return stream.ReadAtLeast(read, magic.Length, throwOnEndOfStream: false) == magic.Length && read.SequenceEqual(magic);
    }

    private static byte[] Checksum(ReadOnlySpan<byte> payload) => SHA256.HashData(payload)[..4];
}
