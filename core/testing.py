"""Composing the real configs outside ``@hydra.main``: for tests, notebooks and ``lamina cat``.

Plugin authors test their configs exactly as users run them::

    cfg = compose_train_config(["experiment=my_tiny", "trainer.max_steps=5"], tmp_path)
    metrics = lamina.tasks.run_train(cfg)
"""

from __future__ import annotations

from pathlib import Path

from omegaconf import DictConfig, open_dict


def compose_config(
    config_name: str,
    overrides: list[str],
    output_dir: str | Path | None = None,
    *,
    resolve_runtime: bool = True,
) -> DictConfig:
    """Compose ``conf/<config_name>.yaml`` with plugins on the search path.

    With ``resolve_runtime`` the Hydra runtime values are bound as in a real run and all paths point into
    ``output_dir`` (a fresh folder by default), so the config can be passed to ``lamina.tasks.run_train``.
    """
    import tempfile

    from hydra import compose, initialize_config_module
    from hydra.core.global_hydra import GlobalHydra
    from hydra.core.hydra_config import HydraConfig

    from lamina.hydra_search import register_search_path
    from lamina.tracking import register_resolvers

    register_resolvers()
    register_search_path()
    GlobalHydra.instance().clear()
    with initialize_config_module(config_module="lamina.conf", version_base="1.3"):
        cfg = compose(config_name=config_name, overrides=overrides, return_hydra_config=resolve_runtime)
    if not resolve_runtime:
        return cfg
    output = Path(output_dir) if output_dir is not None else Path(tempfile.mkdtemp(prefix="lamina-"))
    output.mkdir(parents=True, exist_ok=True)
    with open_dict(cfg):
        cfg.hydra.runtime.output_dir = str(output)
        cfg.hydra.job.num = 0
        cfg.hydra.job.id = "0"
        cfg.paths.root_dir = str(output)
        cfg.paths.log_dir = str(output / "logs")
        cfg.paths.output_dir = str(output)
        cfg.paths.work_dir = str(output)
    HydraConfig.instance().set_config(cfg)
    with open_dict(cfg):
        del cfg.hydra
    return cfg


def compose_train_config(overrides: list[str], output_dir: str | Path | None = None) -> DictConfig:
    """``train.yaml`` with test-friendly defaults (CSV logger, no config printing) and ``overrides`` on top."""
    return compose_config("train", ["logger=csv", "extras.print_config=false", *overrides], output_dir)
