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
