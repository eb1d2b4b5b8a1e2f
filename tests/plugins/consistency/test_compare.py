"""The comparison command end to end at a tiny budget, the summary/inversion bookkeeping, and the plugin hooks."""

import json

import pytest
from click.testing import CliRunner

from lamina_consistency.compare import inversion_counts, summary_table


@pytest.mark.slow  # trains two tiny teachers and six students: ~15 s on a busy 2-core machine
def test_compare_command_writes_table_results_and_figures(tmp_path):
    from lamina_consistency.cli import consistency_group

    result = CliRunner().invoke(
        consistency_group,
        [
            "compare",
            "--datasets",
            "mixture,digits",
            "--seeds",
            "0",
            "--budget-scale",
            "0.01",
            "--ode-steps",
            "10",
            "--out-dir",
            str(tmp_path),
        ],
    )
    assert result.exit_code == 0, result.output
    table = (tmp_path / "table.md").read_text()
    assert "### mixture" in table and "### digits" in table and "inversion" in table
    results = json.loads((tmp_path / "results.json").read_text())
    models = {(row["dataset"], row["model"]) for row in results["rows"]}
    assert ("digits", "direct_equal_evals") in models and ("mixture", "cd") in models
    runs = results["runs"]["mixture"]["seeds"]["0"]
    assert runs["direct_equal_evals"]["teacher_evaluations"] >= runs["cd"]["teacher_evaluations"]
    assert runs["direct_equal_evals"]["optimizer_steps"] <= runs["direct"]["optimizer_steps"]
    assert runs["direct"]["teacher_evaluations"] > runs["cd"]["teacher_evaluations"]
    for name in ("samples_mixture_seed0.png", "samples_digits_seed0.png", "ode_error_vs_quality_digits.png"):
        assert (tmp_path / "figures" / name).stat().st_size > 1000
    assert len(list(tmp_path.glob("teachers/*.pt"))) == 2  # one shared teacher per data set


def test_compare_rejects_unknown_dataset(tmp_path):
    from lamina_consistency.cli import consistency_group

    result = CliRunner().invoke(
        consistency_group, ["compare", "--datasets", "cifar", "--out-dir", str(tmp_path)]
    )
    assert result.exit_code != 0 and "choose from" in result.output


def _row(seed, model, steps, ode_error, mmd):
    return {
        "dataset": "mixture",
        "seed": seed,
        "model": model,
        "steps": steps,
        "ode_error": ode_error,
        "mmd": mmd,
    }


def test_inversion_counts_compare_direct_with_cd_per_seed():
    rows = [
        _row(0, "cd", 1, 0.3, 0.01),
        _row(0, "direct", 1, 0.2, 0.02),  # inversion
        _row(1, "cd", 1, 0.3, 0.03),
        _row(1, "direct", 1, 0.2, 0.02),  # lower error, better quality
        _row(2, "cd", 1, 0.1, 0.01),
        _row(2, "direct", 1, 0.2, 0.02),  # worse on both
    ]
    counts = inversion_counts(rows, {"mixture": "mmd"}, {"mmd": True})
    assert counts[("mixture", 1)] == (2, 2, 1)
    table = summary_table(rows, "mixture", ["mmd"])
    assert "| cd | 1 | 3 |" in table and "±" in table


@pytest.mark.parametrize("hook", ["register_models", "register_datasets"])
def test_plugin_registers_importable_targets(hook):
    from lamina_consistency import plugin

    entries = []
    getattr(plugin, hook)(lambda name, target, **meta: entries.append((name, target, meta)))
    assert entries
    for name, target, meta in entries:
        assert name.startswith("consistency_") and meta["description"]
        module, _, attribute = target.partition(":")
        assert hasattr(__import__(module, fromlist=[attribute]), attribute)
    assert plugin.config_search_path() == "pkg://lamina_consistency.conf"
