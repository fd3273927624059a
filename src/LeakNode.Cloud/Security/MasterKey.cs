using LeakNode.Cloud.Configuration;

namespace LeakNode.Cloud.Security;

/// <summary>
/// The master key everything secret at rest is encrypted with: <c>Security:MasterKey</c> when set, else
/// <c>DataDir/master.key</c>, generated on first start with owner-only permissions.
/// </summary>
internal static class MasterKey
{
    public const string FileName = "master.key";

    public const int Size = 32;

    /// <summary>Returns the key, and the file it was created in now (null when it was configured or already there).</summary>
    /// <exception cref="IOException">The key file cannot be read or written.</exception>
    /// <exception cref="InvalidDataException">The key file does not hold a key.</exception>
    public static (byte[] Key, string? CreatedPath) LoadOrCreate(CloudConfiguration configuration)
    {
        if (configuration.Security.MasterKey is { } configured)
        {
            return (Convert.FromBase64String(configured.Trim()), null);
        }

        Directory.CreateDirectory(configuration.DataDir);
        var path = Path.GetFullPath(Path.Combine(configuration.DataDir, FileName));
        if (File.Exists(path))
        {
            return (Read(path), null);
        }

        var key = System.Security.Cryptography.RandomNumberGenerator.GetBytes(Size);
        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }
        try
        {
            // Base64 text, so that the same value can be moved into Security:MasterKey as it is.
            using var file = new FileStream(path, options);
            using var writer = new StreamWriter(file);
            writer.WriteLine(Convert.ToBase64String(key));
        }
        catch (IOException) when (File.Exists(path))
        {
            // Another process created it first: use theirs.
            return (Read(path), null);
        }
        return (key, path);
    }

    private static byte[] Read(string path)
    {
        var text = File.ReadAllText(path).Trim();
        Span<byte> key = stackalloc byte[64];
        if (!Convert.TryFromBase64String(text, key, out var written) || written != Size)
        {
            throw new InvalidDataException($"{path} does not hold a master key (the base64 of {Size} bytes)");
        }
        return key[..Size].ToArray();
    }
}
