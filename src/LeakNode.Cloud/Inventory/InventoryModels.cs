namespace LeakNode.Cloud.Inventory;

// The REST shapes of the token inventory (docs/INVENTORY.md). Requests use nullable members so that a missing field
// is reported by validation with its name. The CLI writes and reads these same records, so that the file
// `leaknode inventory digest` writes is, byte for byte, a body POST /api/v1/inventory accepts.

/// <summary>
/// <c>POST /api/v1/inventory</c>: either <see cref="Tokens"/> (plaintext, digested at once and never kept) or
/// <see cref="Digests"/> made offline with the inventory key named by <see cref="KeyId"/>.
/// </summary>
/// <param name="Scheme">The digest scheme (<see cref="Matching.Digests.TokenDigest.Scheme"/>); optional, 1 when given.</param>
/// <param name="Label">What the tokens are (<c>ci-deploy-keys</c>, <c>partner-api</c>); applies to every token of the request.</param>
public sealed record InventoryAddRequest(
    IReadOnlyList<string?>? Tokens = null,
    IReadOnlyList<InventoryDigestRequest?>? Digests = null,
    string? KeyId = null,
    int? Scheme = null,
    string? Label = null);

/// <summary>
/// One token as its digest: what <see cref="Matching.Digests.TokenDigester"/> makes, without an id (the cloud gives
/// one). <see cref="Hmac"/> is base64 in JSON.
/// </summary>
public sealed record InventoryDigestRequest(int? Length, int? SpanStart, uint[]? Windows, byte[]? Hmac, string? Preview = null);

/// <summary>The answer to an add: tokens added, tokens skipped (already in the inventory, or twice in the request), and the inventory's size after it.</summary>
public sealed record InventoryAddResult(int Added, int Skipped, long Total);

/// <summary>An inventory token as lists show it: id, label, masked preview and fingerprint; never its digest.</summary>
/// <param name="CreatedBy">The name of the API key that added it.</param>
public sealed record InventoryTokenView(string Id, string? Label, string Preview, string Fingerprint, DateTimeOffset CreatedAt, string CreatedBy);

/// <summary>
/// <c>GET /api/v1/inventory/key</c>: the inventory key, base64 of 32 bytes. Secret: with it and the digests, half of
/// each token can be brute-forced and any guess checked (docs/DESIGN.md, "Security model").
/// </summary>
public sealed record InventoryKeyView(string KeyId, string Key);

/// <summary>
/// <c>GET /api/v1/inventory/digests</c>: everything a scanner needs to watch for the inventory offline. The cloud
/// writes it as a stream, digest after digest, so that a large inventory is never held whole.
/// </summary>
/// <param name="Count">The number of entries in <see cref="Digests"/>.</param>
public sealed record InventoryDigestsView(int Scheme, string KeyId, string Key, long Count, IReadOnlyList<InventoryDigestView> Digests);

/// <summary>One inventory token in digest form, with its id (reported with every finding).</summary>
public sealed record InventoryDigestView(string Id, string? Label, int Length, int SpanStart, uint[] Windows, byte[] Hmac, string Preview);
