namespace Lstm.Simd.GemmKernels;

/// <summary>A pinned float array whose usable part starts on a 64-byte boundary, so panel rows are whole cache lines.</summary>
internal sealed class AlignedBuffer
{
    private readonly float[] array;
    private readonly int offset;

    public unsafe AlignedBuffer(long length)
    {
        if (length > Array.MaxLength - 16)
        {
            throw new ArgumentOutOfRangeException(nameof(length), length, "A packed buffer this large exceeds the largest array .NET allows.");
        }
        array = GC.AllocateArray<float>((int)length + 16, pinned: true);
        fixed (float* p = array)
        {
            long misalignment = (long)p % PanelLayout.Alignment;
            offset = misalignment == 0 ? 0 : (int)((PanelLayout.Alignment - misalignment) / sizeof(float));
        }
        Length = (int)length;
    }

    public int Length { get; }

    public Span<float> Span => array.AsSpan(offset, Length);
}
