using System.Data.Common;
using System.Security.Cryptography;
using Dapper;
using LeakNode.Matching.Digests;

namespace LeakNode.Cloud.Security;

/// <summary>
/// Digest keys the cloud makes once and keeps in <c>meta</c>, sealed under the master key: the deployment key
/// (<see cref="DeploymentKeyring"/>) and the inventory key (<c>Inventory/InventoryKeyring</c>). Each is bound to
/// its own sealing context, so one sealed key copied over the other's row does not open.
/// </summary>
internal static class SealedKeys
{
    /// <summary>The key kept under <paramref name="metaName"/>, made now when there is none; Created says this call made it.</summary>
    /// <exception cref="CryptographicException">The stored key does not open under this master key.</exception>
    public static async Task<(byte[] Key, bool Created)> LoadOrCreateAsync(
        DbConnection connection, DbTransaction transaction, SecretBox box, string metaName, string context)
    {
        var sealedKey = await connection.ExecuteScalarAsync<string?>("SELECT value FROM meta WHERE name = @metaName", new { metaName }, transaction);
        var created = false;
        if (sealedKey is null)
        {
            var fresh = DigestKey.GenerateBytes();
            sealedKey = box.Seal(fresh, context);
            CryptographicOperations.ZeroMemory(fresh);
            // ON CONFLICT: another replica may have made one at the same moment; then theirs is read back below.
            created = await connection.ExecuteAsync(
                "INSERT INTO meta (name, value) VALUES (@metaName, @sealedKey) ON CONFLICT (name) DO NOTHING",
                new { metaName, sealedKey }, transaction) == 1;
            sealedKey = await connection.ExecuteScalarAsync<string>("SELECT value FROM meta WHERE name = @metaName", new { metaName }, transaction);
        }
        return (box.Open(sealedKey!, context), created);
    }
}
