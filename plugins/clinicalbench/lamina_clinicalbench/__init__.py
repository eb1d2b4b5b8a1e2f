"""ClinicalBench (arXiv:2411.06469) for Lamina: traditional models vs language models on clinical prediction."""

__version__ = "0.1.0"
