"""Lamina hooks of the ClinicalBench plugin (cheap to import: dotted paths only, no torch)."""

from lamina import hookimpl

PAPER = "ClinicalBench (arXiv:2411.06469)"


@hookimpl
def config_search_path():
    return "pkg://lamina_clinicalbench.conf"


@hookimpl
def register_commands(cli):
    from lamina_clinicalbench.cli import clinicalbench

    cli.add_command(clinicalbench)


@hookimpl
def register_metrics(register):
    register(
        "clinicalbench_macro_f1",
        "lamina_clinicalbench.metrics:macro_f1",
        description="Macro-F1 over length-of-stay classes 1-3 (ClinicalBench).",
        paper=PAPER,
    )
    register(
        "clinicalbench_positive_f1",
        "lamina_clinicalbench.metrics:positive_f1",
        description="F1 of the positive class (mortality, readmission).",
        paper=PAPER,
    )
    register(
        "clinicalbench_auroc",
        "lamina_clinicalbench.metrics:binary_auroc",
        description="AUROC with tied scores counted half (Mann-Whitney form).",
        paper=PAPER,
    )
