using System.Reflection;
using System.Runtime.InteropServices;

namespace LeakNode.Benchmarks.Hyperscan;

/// <summary>
/// The part of Hyperscan 5.4's C API (<c>hs/hs_compile.h</c>, <c>hs/hs_runtime.h</c>,
/// <c>hs/hs_common.h</c>) that literal block-mode scanning needs.
/// </summary>
/// <remarks>
/// C types on x64 Linux (LP64): <c>unsigned int</c> → <see cref="uint"/>, <c>size_t</c> →
/// <see cref="nuint"/>, <c>unsigned long long</c> → <see cref="ulong"/>, <c>hs_error_t</c> (an
/// <c>int</c>) → <see cref="int"/>. <c>HS_CDECL</c> is empty on Linux, which is the platform default
/// convention, so the callback's <c>Cdecl</c> is the same thing spelled out.
/// </remarks>
internal static unsafe partial class HyperscanNative
{
    /// <summary>The logical name every import below uses; <see cref="Resolve"/> maps it to a file.</summary>
    private const string Library = "hs";

    /// <summary>Debian's <c>libhyperscan5</c> ships only the versioned name; the unversioned
    /// <c>libhs.so</c> comes with <c>libhyperscan-dev</c>, which a benchmark machine may not have.</summary>
    private const string VersionedFileName = "libhs.so.5";

    public const int Success = 0;
    public const int ScanTerminated = -3;
    public const int CompilerError = -4;
    public const uint ModeBlock = 1;

    static HyperscanNative()
    {
        // The resolver must be in place before the first call binds "hs", which is why it is a static
        // constructor (precise initialisation) rather than a field initialiser. An assembly has at
        // most one resolver; if other benchmark code already installed one, default probing of "hs"
        // (libhs.so from libhyperscan-dev) is the fallback rather than a TypeInitializationException.
        try
        {
            NativeLibrary.SetDllImportResolver(typeof(HyperscanNative).Assembly, Resolve);
        }
        catch (InvalidOperationException)
        {
        }
    }

    /// <summary>Loads the library the way the imports will, or says why it cannot.</summary>
    public static bool TryLoad(out string reason)
    {
        if (TryLoadLibrary(typeof(HyperscanNative).Assembly, searchPath: null, out _))
        {
            reason = string.Empty;
            return true;
        }

        reason = $"neither {VersionedFileName} nor {Library} could be loaded (apt-get install libhyperscan5)";
        return false;
    }

    private static nint Resolve(string libraryName, Assembly assembly, DllImportSearchPath? searchPath) =>
        libraryName == Library && TryLoadLibrary(assembly, searchPath, out var handle) ? handle : 0;

    private static bool TryLoadLibrary(Assembly assembly, DllImportSearchPath? searchPath, out nint handle) =>
        NativeLibrary.TryLoad(VersionedFileName, out handle)
        || NativeLibrary.TryLoad(Library, assembly, searchPath, out handle);

    /// <summary>Layout of <c>hs_compile_error_t</c>: <c>char *message; int expression;</c>.</summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct CompileError
    {
        public byte* Message;
        public int Expression;
    }

    [LibraryImport(Library)]
    public static partial int hs_valid_platform();

    [LibraryImport(Library)]
    public static partial byte* hs_version();

    [LibraryImport(Library)]
    public static partial int hs_compile_lit_multi(
        byte** expressions,
        uint* flags,
        uint* ids,
        nuint* lens,
        uint elements,
        uint mode,
        void* platform,
        out DatabaseHandle db,
        out CompileError* error);

    [LibraryImport(Library)]
    public static partial int hs_free_compile_error(CompileError* error);

    [LibraryImport(Library)]
    public static partial int hs_free_database(nint db);

    [LibraryImport(Library)]
    public static partial int hs_database_size(DatabaseHandle db, out nuint size);

    /// <summary><paramref name="scratch"/> is in/out: null asks for a new scratch block.</summary>
    [LibraryImport(Library)]
    public static partial int hs_alloc_scratch(DatabaseHandle db, ref nint scratch);

    [LibraryImport(Library)]
    public static partial int hs_free_scratch(nint scratch);

    [LibraryImport(Library)]
    public static partial int hs_scan(
        DatabaseHandle db,
        byte* data,
        uint length,
        uint flags,
        ScratchHandle scratch,
        delegate* unmanaged[Cdecl]<uint, ulong, ulong, uint, nint, int> onEvent,
        nint context);

    public static string ErrorName(int error) => error switch
    {
        -1 => "HS_INVALID",
        -2 => "HS_NOMEM",
        -3 => "HS_SCAN_TERMINATED",
        -4 => "HS_COMPILER_ERROR",
        -5 => "HS_DB_VERSION_ERROR",
        -6 => "HS_DB_PLATFORM_ERROR",
        -7 => "HS_DB_MODE_ERROR",
        -8 => "HS_BAD_ALIGN",
        -9 => "HS_BAD_ALLOC",
        -10 => "HS_SCRATCH_IN_USE",
        -11 => "HS_ARCH_ERROR (the CPU lacks SSSE3)",
        -12 => "HS_INSUFFICIENT_SPACE",
        -13 => "HS_UNKNOWN_ERROR",
        _ => $"hs_error_t {error}",
    };
}

/// <summary>Owns an <c>hs_database_t*</c>.</summary>
internal sealed class DatabaseHandle : SafeHandle
{
    public DatabaseHandle()
        : base(invalidHandleValue: 0, ownsHandle: true)
    {
    }

    public override bool IsInvalid => handle == 0;

    protected override bool ReleaseHandle() => HyperscanNative.hs_free_database(handle) == HyperscanNative.Success;
}

/// <summary>Owns an <c>hs_scratch_t*</c>.</summary>
internal sealed class ScratchHandle : SafeHandle
{
    public ScratchHandle()
        : base(invalidHandleValue: 0, ownsHandle: true)
    {
    }

    public override bool IsInvalid => handle == 0;

    protected override bool ReleaseHandle() => HyperscanNative.hs_free_scratch(handle) == HyperscanNative.Success;
}
