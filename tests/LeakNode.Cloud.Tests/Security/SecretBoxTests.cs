using System.Security.Cryptography;
using System.Text;
using LeakNode.Cloud.Security;

namespace LeakNode.Cloud.Tests.Security;

public sealed class SecretBoxTests
{
    private static byte[] Key() => RandomNumberGenerator.GetBytes(32);

    [Fact]
    public void Open_SealedValue_GivesThePlaintextBack()
    {
        using var box = new SecretBox(Key());
        var sealedValue = box.Seal("sk_live_0123456789abcdef", "ctx");
        Assert.DoesNotContain("0123456789abcdef", Encoding.Latin1.GetString(Convert.FromBase64String(sealedValue)), StringComparison.Ordinal);
        Assert.Equal("sk_live_0123456789abcdef", Encoding.UTF8.GetString(box.Open(sealedValue, "ctx")));
    }

    [Fact]
    public void Seal_SameValueTwice_GivesDifferentCiphertexts()
    {
        using var box = new SecretBox(Key());
        Assert.NotEqual(box.Seal("same-token-value", "ctx"), box.Seal("same-token-value", "ctx"));
    }

    [Fact]
    public void Open_OtherContextOrKeyOrAltered_Throws()
    {
        var key = Key();
        using var box = new SecretBox(key);
        var sealedValue = box.Seal("a-token-value-1234", "row-1");
        Assert.ThrowsAny<CryptographicException>(() => box.Open(sealedValue, "row-2"));
        using var other = new SecretBox(Key());
        Assert.ThrowsAny<CryptographicException>(() => other.Open(sealedValue, "row-1"));
        var bytes = Convert.FromBase64String(sealedValue);
        bytes[^1] ^= 1;
        Assert.ThrowsAny<CryptographicException>(() => box.Open(Convert.ToBase64String(bytes), "row-1"));
        Assert.ThrowsAny<CryptographicException>(() => box.Open("not base64!", "row-1"));
    }

    [Fact]
    public async Task Seal_FromManyThreads_EveryValueOpens()
    {
        using var box = new SecretBox(Key());
        var results = await Task.WhenAll(Enumerable.Range(0, 64).Select(i => Task.Run(() =>
        {
            var values = new List<(string Plain, string Sealed)>();
            for (var j = 0; j < 200; j++)
            {
                var plain = $"token-{i}-{j}-padding";
                values.Add((plain, box.Seal(plain, "ctx")));
            }
            return values;
        }, TestContext.Current.CancellationToken)));
        Assert.All(results.SelectMany(r => r), v => Assert.Equal(v.Plain, Encoding.UTF8.GetString(box.Open(v.Sealed, "ctx"))));
    }
}
