"""Cut Cross-Entropy (Wijmans et al., arXiv:2411.09009) for Lamina: the paper's claims, reproduced small.

The loss itself lives in ``lamina_kernels``; the causal-LM module that trains with it in ``lamina.lm``. This plugin
adds an offline real corpus (the Python standard library's own documentation), the tiny default experiment and the
paper's three measurements: convergence against full logits, memory at large vocabularies, filtering/sorting.
"""
