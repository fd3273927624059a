using LeakNode.Matching.Digests;

namespace LeakNode.Node.Rules;

/// <summary>
/// The deployment key of a standalone node: 32 random bytes in <c>StateDir/node.key</c>, created on first start
/// with owner-only permissions, so that token fingerprints stay the same across restarts.
/// </summary>
internal static class NodeKey
{
    public const string FileName = "node.key";

    public static (DigestKey Key, bool Created) LoadOrCreate(string stateDir)
    {
        Directory.CreateDirectory(stateDir);
        var path = Path.Combine(stateDir, FileName);
        if (File.Exists(path))
        {
            var bytes = File.ReadAllBytes(path);
            if (bytes.Length != DigestKey.Size)
            {
                throw new InvalidDataException($"{path} holds {bytes.Length} bytes; a node key is {DigestKey.Size}. Delete it to make a new one (token fingerprints will change).");
            }
            return (DigestKey.FromBytes(bytes), false);
        }

        var key = DigestKey.GenerateBytes();
        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }
        using (var file = new FileStream(path, options))
        {
            file.Write(key);
        }
        return (DigestKey.FromBytes(key), true);
    }
}
