"""What every part of the engine shares: errors, progress and cancel, run options, the device,
out-of-memory retry, memory caps and CPU parallelism."""
