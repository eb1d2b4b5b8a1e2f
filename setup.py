"""Package layout for the ``lamina`` distribution.

The repository keeps a flat, readable layout (``core/``, ``kernels/``, ``conf/``) while the installed import names
are ``lamina``, ``lamina_kernels`` and ``lamina.conf``. setuptools needs the renamed sub-packages listed
explicitly, which is all this file does; everything else is in ``pyproject.toml``.
"""

from setuptools import find_packages, setup


def renamed(import_name: str, folder: str) -> list[str]:
    return [import_name] + [f"{import_name}.{sub}" for sub in find_packages(folder)]


setup(
    package_dir={"lamina": "core", "lamina_kernels": "kernels", "lamina.conf": "conf"},
    packages=renamed("lamina", "core") + renamed("lamina_kernels", "kernels") + ["lamina.conf"],
    package_data={"lamina.conf": ["**/*.yaml"], "lamina": ["**/*.yaml", "**/*.tmpl", "py.typed"]},
    include_package_data=True,
)
