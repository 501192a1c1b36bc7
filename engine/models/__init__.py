"""The shared model machinery: cards, the store, the task base, the tiled runner, network
architectures (archs/) and the training loop and fine-tune driver (training/)."""
