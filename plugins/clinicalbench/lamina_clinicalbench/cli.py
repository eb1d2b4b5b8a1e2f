"""``lamina clinicalbench ...``: generate synthetic data, build a cohort, run the benchmark, write the table.

Heavy imports happen inside each command so ``lamina --help`` stays instant.
"""

from __future__ import annotations

import json
import runpy
import sys

import click

PASS_THROUGH = {"ignore_unknown_options": True, "allow_extra_args": True}


@click.group()
def clinicalbench() -> None:
    """ClinicalBench (arXiv:2411.06469): traditional ML vs language models on MIMIC-III/IV."""


@clinicalbench.command()
@click.argument("out_dir", type=click.Path(file_okay=False))
@click.option(
    "--version", "version", type=click.Choice(["mimic3", "mimic4"]), default="mimic3", show_default=True
)
@click.option("--patients", type=int, default=5000, show_default=True)
@click.option("--seed", type=int, default=0, show_default=True)
def synth(out_dir: str, version: str, patients: int, seed: int) -> None:
    """Write a SYNTHETIC EHR in MIMIC's file layout (not patient data)."""
    from lamina_clinicalbench.synthetic import write_synthetic_mimic

    folder = write_synthetic_mimic(out_dir, patients, version, seed)
    click.echo(
        f"synthetic {version} layout written to {folder} (drug map: {folder / 'ndc_to_atc3_synthetic.csv'})"
    )


@clinicalbench.command()
@click.argument("mimic_dir", type=click.Path(exists=True, file_okay=False))
@click.argument("out_file", type=click.Path(dir_okay=False))
@click.option(
    "--version", "version", type=click.Choice(["mimic3", "mimic4"]), default="mimic3", show_default=True
)
@click.option(
    "--drug-map",
    type=click.Path(exists=True, dir_okay=False),
    default=None,
    help="CSV with columns ndc, atc3[, atc3_name]; without it drugs are keyed by name.",
)
def cohort(mimic_dir: str, out_file: str, version: str, drug_map: str | None) -> None:
    """Build the ClinicalBench cohort (first adult visit with diagnoses, procedures, drugs) and its labels."""
    from lamina_clinicalbench.cohort_file import build_cohort_file

    built = build_cohort_file(mimic_dir, out_file, version, drug_map)
    click.echo(json.dumps({"data": built.data_label, **built.meta}, indent=2))


@clinicalbench.command(context_settings=PASS_THROUGH)
@click.pass_context
def benchmark(ctx: click.Context) -> None:
    """Run the Hydra benchmark app; arguments pass through (e.g. ``--multirun model=svm,xgboost``)."""
    sys.argv = ["lamina_clinicalbench.benchmark", *ctx.args]
    runpy.run_module("lamina_clinicalbench.benchmark", run_name="__main__", alter_sys=True)


@clinicalbench.command()
@click.argument("sweep_dir", type=click.Path(exists=True, file_okay=False))
def table(sweep_dir: str) -> None:
    """(Re)write results.md / results.csv / results.png from a multirun folder."""
    from lamina_clinicalbench.results_table import write_results_table

    for kind, path in write_results_table(sweep_dir).items():
        click.echo(f"{kind}: {path}")
