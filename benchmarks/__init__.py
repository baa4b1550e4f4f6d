"""Benchmarks: scripts that measure Styrdok on this machine and print tables (`make bench`)."""
