"""The ClinicalBench Hydra app: one job = one model on one task and seed; a multirun makes the whole table.

``python -m lamina_clinicalbench.benchmark --multirun`` sweeps the grid in ``benchmark_conf/benchmark.yaml``; each
job writes ``result.json``, and :class:`ResultsTableCallback` writes ``results.md``/``.csv``/``.png`` in the sweep
folder when the multirun ends (``lamina clinicalbench table <folder>`` does the same for a partial sweep).
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from pathlib import Path
from typing import Any

import hydra
from hydra.core.hydra_config import HydraConfig
from hydra.experimental.callback import Callback
from omegaconf import DictConfig, OmegaConf

from lamina_clinicalbench.cohort_file import Cohort, build_cohort_file, read_cohort_file
from lamina_clinicalbench.traditional_models import DISPLAY_NAMES, TRADITIONAL_MODELS

log = logging.getLogger(__name__)

LM_STRATEGIES = {
    "lm_zero_shot": "zero_shot",
    "lm_in_context": "in_context",
    "lm_chain_of_thought": "chain_of_thought",
    "lm_self_reflection": "self_reflection",
}
LM_MODELS = (*LM_STRATEGIES, "lm_finetuned")
LM_DISPLAY = {
    "lm_zero_shot": "LM zero-shot",
    "lm_in_context": "LM in-context (2 examples)",
    "lm_chain_of_thought": "LM chain-of-thought",
    "lm_self_reflection": "LM self-reflection",
    "lm_finetuned": "LM fine-tuned",
}


def prepare_cohort(data: DictConfig) -> Path:
    """The cohort file for ``data``: built once (synthetic data generated first when no MIMIC folder is given)."""
    cache = Path(data.cache_dir)
    if data.mimic_dir is None:
        from lamina_clinicalbench.synthetic import write_synthetic_mimic

        folder = cache / f"synthetic_{data.version}_n{data.synthetic_patients}_seed{data.synthetic_seed}"
        cohort_path = folder / "cohort.json"
        if not cohort_path.is_file():
            log.info(
                "Generating SYNTHETIC %s-like EHR (%d patients) in %s",
                data.version,
                data.synthetic_patients,
                folder,
            )
            write_synthetic_mimic(folder, data.synthetic_patients, data.version, data.synthetic_seed)
            build_cohort_file(
                folder, cohort_path, data.version, data.drug_map or str(folder / "ndc_to_atc3_synthetic.csv")
            )
        return cohort_path
    key = hashlib.sha256(
        json.dumps([str(Path(data.mimic_dir).resolve()), data.version, data.drug_map]).encode()
    )
    cohort_path = cache / f"cohort_{data.version}_{key.hexdigest()[:12]}.json"
    if not cohort_path.is_file():
        log.info(
            "Building the ClinicalBench cohort from %s (once; cached at %s)", data.mimic_dir, cohort_path
        )
        build_cohort_file(data.mimic_dir, cohort_path, data.version, data.drug_map)
    return cohort_path


def _language_model_settings(lm: DictConfig):
    from lamina_clinicalbench.lm_training import LanguageModelSettings

    fields = LanguageModelSettings.__dataclass_fields__
    return LanguageModelSettings(**{k: v for k, v in OmegaConf.to_container(lm).items() if k in fields})


def _backend(cfg: DictConfig, cohort_path: Path, task: str, seed: int, finetuned: bool):
    from lamina_clinicalbench.lm_backends import HuggingFaceBackend, OpenAICompatibleBackend

    lm = cfg.lm
    if lm.backend == "openai":
        if not lm.openai_url or not lm.openai_model:
            raise ValueError(
                "lm.backend=openai needs lm.openai_url (e.g. http://localhost:8000/v1) and lm.openai_model."
            )
        return OpenAICompatibleBackend(lm.openai_url, lm.openai_model, lm.openai_key)
    if lm.backend == "hf_dir":
        if not lm.hf_dir:
            raise ValueError("lm.backend=hf_dir needs lm.hf_dir=<local save_pretrained folder>.")
        if finetuned:
            raise ValueError(
                "lm_finetuned fine-tunes the model trained here; use backend=trained_here, or fine-tune "
                "your model with `lamina train` and point lm.hf_dir at the result."
            )
        return HuggingFaceBackend.from_directory(lm.hf_dir, chat=lm.chat)
    if lm.backend != "trained_here":
        raise ValueError(f"unknown lm.backend {lm.backend!r}; use trained_here, hf_dir or openai.")
    from lamina_clinicalbench.lm_training import finetune_model, train_base_model

    settings = _language_model_settings(lm)
    models = (
        cohort_path.parent / f"lm_{cohort_path.stem}_h{settings.hidden_size}_l{settings.num_hidden_layers}"
    )
    base = train_base_model(str(cohort_path), models / f"base_s{settings.base_steps}", settings)
    if not finetuned:
        return HuggingFaceBackend.from_directory(base)
    tuned = finetune_model(
        base,
        str(cohort_path),
        task,
        seed,
        models / f"ft_{task}_seed{seed}_s{settings.finetune_steps}",
        settings,
    )
    return HuggingFaceBackend.from_directory(tuned, chat=True)


def run_one(cfg: DictConfig, cohort: Cohort, cohort_path: Path) -> dict[str, Any]:
    """Metrics of ``cfg.model`` on ``cfg.task`` for ``cfg.seed``."""
    if cfg.model in TRADITIONAL_MODELS:
        from lamina_clinicalbench.traditional_eval import evaluate_traditional

        return evaluate_traditional(cohort, cfg.model, cfg.task, cfg.seed)
    if cfg.model not in LM_MODELS:
        raise ValueError(f"unknown model {cfg.model!r}; choose one of {TRADITIONAL_MODELS + LM_MODELS}")
    from lamina_clinicalbench.lm_eval import evaluate_language_model
    from lamina_clinicalbench.splits import split_task

    split = split_task(cohort.samples, cfg.task, cfg.seed)
    test = split.test[: cfg.lm.max_test_samples] if cfg.lm.max_test_samples else split.test
    backend = _backend(cfg, cohort_path, cfg.task, cfg.seed, finetuned=cfg.model == "lm_finetuned")
    strategy = LM_STRATEGIES.get(cfg.model, "zero_shot")
    return evaluate_language_model(backend, test, cfg.task, cohort.titles, strategy, examples=split.train)


def benchmark_job(cfg: DictConfig) -> dict[str, Any]:
    """One Hydra job: prepare the cohort, evaluate, write ``result.json`` in the job's output folder."""
    cohort_path = prepare_cohort(cfg.data)
    cohort = read_cohort_file(cohort_path)
    metrics = run_one(cfg, cohort, cohort_path)
    result = {
        "model": cfg.model,
        "display": DISPLAY_NAMES.get(cfg.model) or LM_DISPLAY[cfg.model],
        "task": cfg.task,
        "seed": cfg.seed,
        "data": cohort.data_label,
        "metrics": metrics,
    }
    out = Path(HydraConfig.get().runtime.output_dir)
    temp = out / ".result.json.tmp"
    temp.write_text(json.dumps(result, indent=2))
    os.replace(temp, out / "result.json")
    log.info(
        "%s %s seed %s on %s: %s",
        cfg.model,
        cfg.task,
        cfg.seed,
        cohort.data_label,
        {k: round(v, 2) if isinstance(v, float) else v for k, v in metrics.items()},
    )
    return result


class ResultsTableCallback(Callback):
    """Writes the results table into the sweep folder when a multirun ends."""

    def on_multirun_end(self, config: DictConfig, **kwargs: Any) -> None:
        from lamina_clinicalbench.results_table import write_results_table

        paths = write_results_table(config.hydra.sweep.dir)
        log.info("ClinicalBench table: %s", ", ".join(str(p) for p in paths.values()))


@hydra.main(version_base="1.3", config_path="benchmark_conf", config_name="benchmark")
def main(cfg: DictConfig) -> float:
    return benchmark_job(cfg)["metrics"]["f1"]


if __name__ == "__main__":
    main()
