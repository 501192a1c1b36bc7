"""The shared training loop (hooks, schedulers, checkpoints, DDP, divergence stop)."""
