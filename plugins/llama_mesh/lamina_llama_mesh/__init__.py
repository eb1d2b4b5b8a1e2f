"""LLaMA-Mesh (arXiv:2411.09595) for Lamina: 3D meshes as plain OBJ text in a language model.

Importing this package is cheap (no torch): the plugin registers dotted paths, and the heavy modules
(:mod:`lamina_llama_mesh.datamodule`, :mod:`lamina_llama_mesh.generate`) import torch themselves.
"""

__all__: list[str] = []
