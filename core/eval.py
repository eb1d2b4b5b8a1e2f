"""The ``lamina eval`` Hydra app (see ``conf/eval.yaml``): test a checkpoint."""

import hydra
from omegaconf import DictConfig

from lamina.hydra_search import register_search_path
from lamina.tasks import configure_environment, run_eval
from lamina.tracking import register_resolvers

configure_environment()
register_resolvers()
register_search_path()


@hydra.main(version_base="1.3", config_path="pkg://lamina.conf", config_name="eval")
def main(cfg: DictConfig) -> None:
    run_eval(cfg)


if __name__ == "__main__":
    main()
