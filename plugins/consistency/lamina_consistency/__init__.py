"""Inconsistencies in Consistency Models (arXiv:2411.08954) as a Lamina plugin.

A diffusion teacher is distilled into few-step students two ways, consistency distillation (CD) and Direct
consistency models (Direct CM), and both are evaluated from identical noise on ODE-solving error and on sample
quality. Importing this package is cheap (no torch); the modules below import torch themselves.
"""

__version__ = "0.1.0"
