"""Test package (unique module names across folders: tests/kernels stays a plain folder for its sibling imports)."""
