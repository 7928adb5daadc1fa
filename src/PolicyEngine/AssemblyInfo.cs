using System.Runtime.CompilerServices;

// Hot paths decode short strings into stackalloc'd buffers; zeroing them first would cost more than the work.
[module: SkipLocalsInit]
