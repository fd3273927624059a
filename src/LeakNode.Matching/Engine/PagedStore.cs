using System.Diagnostics;

namespace LeakNode.Matching.Engine;

/// <summary>
/// An append-mostly array of structs in fixed-size pages, copied on write a page at a time. A rule-set update
/// forks the store (copying only the page table), changes a few pages, and publishes the fork; every earlier
/// version keeps reading its own pages. This is what makes "add one leak to a million tokens" cost a few
/// page copies instead of a rebuild.
/// </summary>
internal sealed class PagedStore<T>
    where T : struct
{
    private readonly int _pageBits;
    private T[][] _pages;
    private bool[] _owned;
    private int _count;
    private bool _frozen;

    public PagedStore(int pageBits, int capacity = 0)
    {
        Debug.Assert(pageBits is > 0 and < 24);
        _pageBits = pageBits;
        var pages = Math.Max(1, (capacity + PageSize - 1) >> pageBits);
        _pages = new T[pages][];
        _owned = new bool[pages];
    }

    private PagedStore(PagedStore<T> source)
    {
        _pageBits = source._pageBits;
        _pages = (T[][])source._pages.Clone();
        _owned = new bool[_pages.Length];
        _count = source._count;
    }

    public int Count => _count;

    private int PageSize => 1 << _pageBits;

    /// <summary>Bytes held by pages, counting shared pages in full.</summary>
    public long Bytes
    {
        get
        {
            long bytes = (long)_pages.Length * IntPtr.Size;
            foreach (var page in _pages)
            {
                if (page is not null)
                {
                    bytes += (long)page.Length * System.Runtime.CompilerServices.Unsafe.SizeOf<T>();
                }
            }
            return bytes;
        }
    }

    public ref readonly T this[int index]
    {
        get
        {
            Debug.Assert((uint)index < (uint)_count);
            return ref _pages[index >> _pageBits][index & (PageSize - 1)];
        }
    }

    /// <summary>A writable copy that shares every page with this store until it writes to it.</summary>
    public PagedStore<T> Fork() => new(this);

    /// <summary>Stops further writes: the store is published and readers may be using it.</summary>
    public void Freeze() => _frozen = true;

    public int Add(in T item)
    {
        var index = _count;
        WritableSlot(index) = item;
        _count++;
        return index;
    }

    /// <summary>
    /// Appends items so that they sit in one page (skipping the rest of the current page when they do not fit),
    /// so that <see cref="Slice"/> can hand them out as one span. Returns the index of the first item.
    /// </summary>
    public int AppendContiguous(ReadOnlySpan<T> items)
    {
        Debug.Assert(items.Length > 0 && items.Length <= PageSize);
        var start = _count;
        var room = PageSize - (start & (PageSize - 1));
        if (items.Length > room)
        {
            start += room;
        }
        items.CopyTo(new Span<T>(PageOf(start), start & (PageSize - 1), items.Length));
        _count = start + items.Length;
        return start;
    }

    /// <summary>Items stored by <see cref="AppendContiguous"/>.</summary>
    public ReadOnlySpan<T> Slice(int index, int length)
    {
        Debug.Assert((uint)index + (uint)length <= (uint)_count);
        return new ReadOnlySpan<T>(_pages[index >> _pageBits], index & (PageSize - 1), length);
    }

    public void Set(int index, in T item)
    {
        Debug.Assert((uint)index < (uint)_count);
        WritableSlot(index) = item;
    }

    private ref T WritableSlot(int index) => ref PageOf(index)[index & (PageSize - 1)];

    private T[] PageOf(int index)
    {
        if (_frozen)
        {
            throw new InvalidOperationException("A published store is read-only; fork it to change it.");
        }

        var pageIndex = index >> _pageBits;
        if (pageIndex >= _pages.Length)
        {
            var grown = Math.Max(pageIndex + 1, _pages.Length * 2);
            Array.Resize(ref _pages, grown);
            Array.Resize(ref _owned, grown);
        }

        var page = _pages[pageIndex];
        if (!_owned[pageIndex])
        {
            var copy = new T[PageSize];
            page?.CopyTo(copy, 0);
            _pages[pageIndex] = page = copy;
            _owned[pageIndex] = true;
        }
        return page!;
    }
}
