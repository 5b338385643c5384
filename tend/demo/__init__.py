"""The demo workspace: a deterministic, coherent data set for trying Tend and for benchmarks."""
