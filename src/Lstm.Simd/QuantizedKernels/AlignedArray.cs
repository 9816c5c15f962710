namespace Lstm.Simd.QuantizedKernels;

/// <summary>A pinned array whose usable part starts on a 64-byte boundary, so packed panel rows are whole cache lines.</summary>
internal sealed class AlignedArray<T>
    where T : unmanaged
{
    private const int Alignment = 64;
    private readonly T[] array;
    private readonly int offset;

    public unsafe AlignedArray(long length)
    {
        int slack = Alignment / sizeof(T);
        if (length > Array.MaxLength - slack)
        {
            throw new ArgumentOutOfRangeException(nameof(length), length, "A packed buffer this large exceeds the largest array .NET allows.");
        }
        array = GC.AllocateArray<T>((int)length + slack, pinned: true);
        fixed (T* p = array)
        {
            long misalignment = (long)p % Alignment;
            offset = misalignment == 0 ? 0 : (int)((Alignment - misalignment) / sizeof(T));
        }
        Length = (int)length;
    }

    public int Length { get; }

    public Span<T> Span => array.AsSpan(offset, Length);
}
