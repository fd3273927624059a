using System.Security.Cryptography;
using LeakNode.Cloud.Storage;
using LeakNode.Cloud.Sync;
using LeakNode.Matching.Digests;

namespace LeakNode.Cloud.Security;

/// <summary>
/// The deployment digest key, made once per database and kept there sealed under the master key, so that every
/// replica over the database, and every restart, digests tokens the same way.
/// </summary>
internal sealed class DeploymentKeyring : IDeploymentKeyring
{
    private const string MetaName = "deployment_key";
    private const string Context = "leaknode/deployment-key";
    private readonly byte[] _bytes;

    private DeploymentKeyring(byte[] bytes)
    {
        _bytes = bytes;
        Key = DigestKey.FromBytes(bytes);
        KeyId = Protocol.RuleMapping.KeyId(bytes);
    }

    public ReadOnlyMemory<byte> KeyBytes => _bytes;

    public string KeyId { get; }

    public DigestKey Key { get; }

    /// <summary>Loads the key, making it on first start; Created says it was made now.</summary>
    /// <exception cref="CryptographicException">The stored key does not open under this master key (a different <c>Security:MasterKey</c> or key file).</exception>
    public static async Task<(DeploymentKeyring Keyring, bool Created)> LoadOrCreateAsync(CloudDatabase database, SecretBox box, CancellationToken cancellationToken)
    {
        var (key, created) = await database.WriteAsync(
            (connection, transaction) => SealedKeys.LoadOrCreateAsync(connection, transaction, box, MetaName, Context), cancellationToken);
        return (new DeploymentKeyring(key), created);
    }
}
