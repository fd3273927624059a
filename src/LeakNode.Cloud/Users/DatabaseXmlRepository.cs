using System.Text;
using System.Xml.Linq;
using Dapper;
using LeakNode.Cloud.Security;
using LeakNode.Cloud.Storage;
using Microsoft.AspNetCore.DataProtection.KeyManagement;
using Microsoft.AspNetCore.DataProtection.Repositories;
using Microsoft.AspNetCore.DataProtection.XmlEncryption;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace LeakNode.Cloud.Users;

/// <summary>
/// Keeps the data-protection key ring (which signs and encrypts the console's cookies and antiforgery tokens) in the
/// cloud's database, sealed with the master key. In the database rather than a folder: replicas over one PostgreSQL
/// must share the ring, or a cookie one replica issued would not open on another.
/// </summary>
/// <remarks>
/// <see cref="IXmlRepository"/> is synchronous; the key ring is read at start-up and about once a day, so the blocking
/// wait on the database here costs nothing that matters.
/// </remarks>
internal sealed class DatabaseXmlRepository(CloudDatabase database, TimeProvider clock) : IXmlRepository
{
    public IReadOnlyCollection<XElement> GetAllElements() =>
        Task.Run(async () =>
        {
            await using var connection = await database.OpenAsync(CancellationToken.None);
            var rows = await connection.QueryAsync<string>("SELECT xml FROM data_protection_keys ORDER BY created_at, name");
            return rows.Select(XElement.Parse).ToList();
        }).GetAwaiter().GetResult();

    public void StoreElement(XElement element, string friendlyName)
    {
        ArgumentNullException.ThrowIfNull(element);
        Task.Run(async () =>
        {
            await using var connection = await database.OpenAsync(CancellationToken.None);
            await connection.ExecuteAsync(
                "INSERT INTO data_protection_keys (name, xml, created_at) VALUES (@name, @xml, @now) ON CONFLICT (name) DO NOTHING",
                new { name = friendlyName, xml = element.ToString(SaveOptions.DisableFormatting), now = Ids.Now(clock) });
        }).GetAwaiter().GetResult();
    }
}

/// <summary>Points the key manager at <see cref="DatabaseXmlRepository"/> and seals each key with the master key.</summary>
internal sealed class DatabaseKeyManagement(DatabaseXmlRepository repository, SecretBox box) : IConfigureOptions<KeyManagementOptions>
{
    public void Configure(KeyManagementOptions options)
    {
        options.XmlRepository = repository;
        options.XmlEncryptor = new SealedXmlEncryptor(box);
    }
}

/// <summary>Seals a data-protection key with the master key (AES-256-GCM, <see cref="SecretBox"/>).</summary>
internal sealed class SealedXmlEncryptor(SecretBox box) : IXmlEncryptor
{
    public const string Context = "leaknode/data-protection-key";

    public EncryptedXmlInfo Encrypt(XElement plaintextElement)
    {
        ArgumentNullException.ThrowIfNull(plaintextElement);
        var sealedValue = box.Seal(plaintextElement.ToString(SaveOptions.DisableFormatting), Context);
        return new EncryptedXmlInfo(new XElement("sealed", sealedValue), typeof(SealedXmlDecryptor));
    }
}

/// <summary>Opens what <see cref="SealedXmlEncryptor"/> sealed; made by the key manager from its type name, with the services.</summary>
internal sealed class SealedXmlDecryptor(IServiceProvider services) : IXmlDecryptor
{
    public XElement Decrypt(XElement encryptedElement)
    {
        ArgumentNullException.ThrowIfNull(encryptedElement);
        var plaintext = services.GetRequiredService<SecretBox>().Open(encryptedElement.Value, SealedXmlEncryptor.Context);
        return XElement.Parse(Encoding.UTF8.GetString(plaintext));
    }
}
