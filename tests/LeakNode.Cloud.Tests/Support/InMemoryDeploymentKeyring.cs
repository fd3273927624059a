using LeakNode.Cloud.Sync;
using LeakNode.Matching.Digests;
using LeakNode.Protocol;

namespace LeakNode.Cloud.Tests.Support;

/// <summary>A deployment key made for one test.</summary>
internal sealed class InMemoryDeploymentKeyring : IDeploymentKeyring
{
    private readonly byte[] _bytes = DigestKey.GenerateBytes();

    public InMemoryDeploymentKeyring()
    {
        Key = DigestKey.FromBytes(_bytes);
        KeyId = RuleMapping.KeyId(_bytes);
    }

    public ReadOnlyMemory<byte> KeyBytes => _bytes;

    public string KeyId { get; }

    public DigestKey Key { get; }
}
