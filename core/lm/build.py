"""Building the Hugging Face model a :class:`~lamina.lm.CausalLM` trains: from a config at small size, or from a
local pretrained directory. Nothing is ever downloaded: a path that is not a local directory is an error."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch
from torch import nn

# Family name -> (config class, model class) in ``transformers``. Any other ``model_type`` known to
# ``AutoConfig`` also works; these are the ones the test suite checks loss-for-loss against Hugging Face.
TESTED_FAMILIES = ("llama", "mistral", "qwen2", "gemma2", "phi3", "gpt2")


def config_from_family(family: str, overrides: dict[str, Any]) -> Any:
    """A ``transformers`` config of ``family`` (a ``model_type`` such as ``"llama"``) with ``overrides`` applied."""
    from transformers import AutoConfig
    from transformers.models.auto.configuration_auto import CONFIG_MAPPING

    if family not in CONFIG_MAPPING:
        raise ValueError(
            f"unknown model family {family!r}. Use a transformers model_type, e.g. one of "
            f"{', '.join(TESTED_FAMILIES)} (these are tested against Hugging Face's own loss)."
        )
    return AutoConfig.for_model(family, **overrides)


def build_from_config(
    family: str, config_overrides: dict[str, Any], *, dtype: torch.dtype | None = None
) -> nn.Module:
    """A freshly initialised ``*ForCausalLM`` of ``family`` (weights trained here, from scratch)."""
    from transformers import AutoModelForCausalLM

    config = config_from_family(family, config_overrides)
    return AutoModelForCausalLM.from_config(config, dtype=dtype or torch.float32)


def load_pretrained(path: str | Path, *, dtype: torch.dtype | None = None) -> nn.Module:
    """Load a ``*ForCausalLM`` from a local directory (``config.json`` + weights), never from a hub."""
    from transformers import AutoModelForCausalLM

    directory = Path(path).expanduser()
    if not (directory / "config.json").is_file():
        raise FileNotFoundError(
            f"pretrained model directory {str(directory)!r} has no config.json. Point `pretrained_path` at a local "
            "folder written by `save_pretrained` (Lamina never downloads weights), or build from a config with "
            "`family=` and `config=`."
        )
    model = AutoModelForCausalLM.from_pretrained(
        directory, dtype=dtype or torch.float32, local_files_only=True
    )
    # from_pretrained returns the model in eval mode (dropout off); a model loaded here is loaded to be trained,
    # and Lightning does not switch modules back. Evaluation and generation call eval() themselves.
    return model.train()
