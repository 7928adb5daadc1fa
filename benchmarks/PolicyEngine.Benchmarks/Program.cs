using BenchmarkDotNet.Running;
using PolicyEngine.Benchmarks;

if (args is ["retained"])
{
    RetainedMemory.Run();
    return;
}

BenchmarkSwitcher.FromAssembly(typeof(RetainedMemory).Assembly).Run(args);
