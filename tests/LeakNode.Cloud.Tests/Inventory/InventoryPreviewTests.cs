using LeakNode.Matching.Digests;
using LeakNode.Testing;

namespace LeakNode.Cloud.Tests.Inventory;

/// <summary>
/// The cloud accepts a preview that comes with an offline digest only in the shape the digester gives one
/// (<see cref="TokenPreview.IsWellFormed"/>): every preview the helper makes passes, and no preview can carry more of a token.
/// </summary>
public sealed class InventoryPreviewTests
{
    [Fact]
    public void IsWellFormed_EveryPreviewTheDigesterMakes_Passes()
    {
        var factory = new TokenFactory(seed: 8105);
        var digester = new TokenDigester(DigestKey.FromBytes(DigestKey.GenerateBytes()));
        for (var i = 0; i < 2000; i++)
        {
            var token = factory.Mixed();
            var preview = digester.Digest("t", token).Preview;
            Assert.True(TokenPreview.IsWellFormed(preview), $"preview '{preview}' of a token of {token.Length} bytes");
        }
    }

    [Theory]
    [InlineData("ghp_…9f3a", true)]
    [InlineData("…9f3a", true)]
    [InlineData("xoxb-…", true)]
    [InlineData("…", true)]
    [InlineData("ghp_abcdef…9f3a", false)]
    [InlineData("abcd…9f3a", false)]
    [InlineData("ghp_…9f3ab", false)]
    [InlineData("ghp_9f3a", false)]
    [InlineData("…9f\u00013", false)]
    [InlineData("…9 3a", false)]
    [InlineData("", false)]
    [InlineData(null, false)]
    public void IsWellFormed_Shape(string? preview, bool expected) => Assert.Equal(expected, TokenPreview.IsWellFormed(preview));
}
