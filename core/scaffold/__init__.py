"""``lamina new-plugin NAME``: write a working plugin distribution from the templates in ``template/``.

The result is a normal pip-installable package (``lamina-NAME``) with an entry point, a registered model and
DataModule, Hydra config groups shipped as package data, and a test. Its model trains on the core's digits data
and on its own procedural data, so ``pip install ./NAME && lamina train model=NAME`` works at once.
"""

from __future__ import annotations

import re
from importlib import resources
from pathlib import Path
from string import Template

NAME_PATTERN = re.compile(r"^[a-z][a-z0-9_]*$")

# template file (relative to template/) -> destination (relative to the new plugin folder)
FILES = {
    "pyproject.toml.tmpl": "pyproject.toml",
    "README.md.tmpl": "README.md",
    "plugin.py.tmpl": "lamina_${name}/plugin.py",
    "init.py.tmpl": "lamina_${name}/__init__.py",
    "model.py.tmpl": "lamina_${name}/model.py",
    "data.py.tmpl": "lamina_${name}/data.py",
    "model.yaml.tmpl": "lamina_${name}/conf/model/${name}.yaml",
    "data.yaml.tmpl": "lamina_${name}/conf/data/${name}.yaml",
    "experiment.yaml.tmpl": "lamina_${name}/conf/experiment/${name}.yaml",
    "test_plugin.py.tmpl": "tests/test_${name}.py",
}


def create_plugin(name: str, directory: str | Path = ".") -> Path:
    """Create ``<directory>/<name>/`` and return its path. Refuses bad names and existing folders."""
    if not NAME_PATTERN.match(name):
        raise ValueError(
            f"plugin name {name!r} must be lowercase letters, digits and '_', starting with a letter "
            f"(it becomes the import package lamina_{name}); e.g. 'my_paper'"
        )
    target = Path(directory) / name
    if target.exists():
        raise FileExistsError(f"{target} already exists; choose another name or --directory")
    values = {
        "name": name,
        "dist": f"lamina-{name.replace('_', '-')}",
        "title": name.replace("_", " ").title().replace(" ", ""),
    }
    templates = resources.files("lamina.scaffold") / "template"
    for source, destination in FILES.items():
        text = Template((templates / source).read_text()).substitute(values)
        path = target / Template(destination).substitute(values)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return target
