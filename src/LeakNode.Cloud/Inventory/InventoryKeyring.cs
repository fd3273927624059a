using LeakNode.Cloud.Diagnostics;
using LeakNode.Cloud.Security;
using LeakNode.Cloud.Storage;
using LeakNode.Matching.Digests;
using Microsoft.Extensions.Logging;

namespace LeakNode.Cloud.Inventory;

/// <summary>The inventory key: its public id, the key, and its bytes for the offline helper.</summary>
internal sealed class InventoryKey
{
    private readonly byte[] _bytes;

    public InventoryKey(byte[] bytes)
    {
        _bytes = bytes;
        Key = DigestKey.FromBytes(bytes);
        KeyId = Protocol.RuleMapping.KeyId(bytes);
    }

    /// <summary>The key's public id (<see cref="Protocol.RuleMapping.KeyId"/>), which digests made with it carry.</summary>
    public string KeyId { get; }

    public DigestKey Key { get; }

    public string Base64 => Convert.ToBase64String(_bytes);
}

/// <summary>
/// The inventory digest key: a key of its own, not the deployment key nodes get, made on first use and kept in
/// <c>meta</c> sealed under the master key, like the deployment key.
/// </summary>
/// <remarks>
/// Why a second key (docs/INVENTORY.md): nodes never need the inventory, so they never get its key, and a node's
/// disk (which holds the deployment key) tells nothing about the organisation's own tokens; the helper that digests
/// tokens offline gets the inventory key, never the one nodes enforce with; and replacing one key does not touch what
/// the other protects (the inventory cannot be re-digested: the cloud never had its plaintext).
/// </remarks>
internal sealed partial class InventoryKeyring(CloudDatabase database, SecretBox box, ILogger<InventoryKeyring> logger)
{
    private const string MetaName = "inventory_key";
    private const string Context = "leaknode/inventory-key";

    private readonly Lock _gate = new();
    private Task<InventoryKey>? _key;

    /// <summary>
    /// The key, made and stored on first use. Loaded once a process: the key never changes under a running cloud, and
    /// replicas that make one at the same moment all end up with the one that was stored first.
    /// </summary>
    public Task<InventoryKey> GetAsync(CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            // A failed load (the database away) is tried again by the next caller, not remembered.
            if (_key is null || _key.IsFaulted || _key.IsCanceled)
            {
                _key = LoadAsync();
            }
            return _key.WaitAsync(cancellationToken);
        }
    }

    private async Task<InventoryKey> LoadAsync()
    {
        // Not the caller's token: the load is shared by every caller waiting for it.
        var (bytes, created) = await database.WriteAsync(
            (connection, transaction) => SealedKeys.LoadOrCreateAsync(connection, transaction, box, MetaName, Context), CancellationToken.None);
        var key = new InventoryKey(bytes);
        if (created)
        {
            Log.KeyCreated(logger, key.KeyId);
        }
        return key;
    }

    private static partial class Log
    {
        [LoggerMessage(EventIds.InventoryKeyCreated, LogLevel.Information, "Generated the inventory digest key {KeyId}; it is stored encrypted in the database")]
        public static partial void KeyCreated(ILogger logger, string keyId);
    }
}
