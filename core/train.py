"""The ``lamina train`` Hydra app (see ``conf/train.yaml``). Run as ``lamina train ...`` or ``python -m lamina.train``."""

import hydra
from omegaconf import DictConfig

from lamina.hydra_search import register_search_path
from lamina.tasks import configure_environment, optimized_metric_value, run_train
from lamina.tracking import register_resolvers

configure_environment()
register_resolvers()
register_search_path()


@hydra.main(version_base="1.3", config_path="pkg://lamina.conf", config_name="train")
def main(cfg: DictConfig) -> float | None:
    return optimized_metric_value(cfg, run_train(cfg))


if __name__ == "__main__":
    main()
