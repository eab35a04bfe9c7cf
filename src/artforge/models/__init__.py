"""Generator and discriminator architectures: plain nn.Modules, one per file, config beside each."""
