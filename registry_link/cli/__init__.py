"""The ``registry-link`` command: a thin layer over the library.

Each sub-command lives in its own module under :mod:`registry_link.cli` and only parses
options, calls the library and prints. :func:`main` is the one place that turns library
errors (:class:`registry_link.errors.RegistryLinkError`) into a clean message and exit code.
"""

from __future__ import annotations

import importlib
import sys
import warnings
from typing import Any, TextIO

import click

from registry_link import __version__
from registry_link.errors import RegistryLinkError

#: Sub-command modules; each exposes a click command named ``command``.
COMMAND_MODULES: tuple[str, ...] = (
    "registry_link.cli.synth_cmd",
    "registry_link.cli.standardise_cmd",
    "registry_link.cli.blocking_cmd",
    "registry_link.cli.train_cmd",
    "registry_link.cli.match_cmd",
    "registry_link.cli.demo_cmd",
    "registry_link.cli.evaluate_cmd",
    "registry_link.cli.db_cmd",
    "registry_link.cli.review_cmd",
    "registry_link.cli.fields_cmd",
    "registry_link.cli.report_cmd",
    "registry_link.cli.serve_cmd",
)


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="registry-link")
def cli() -> None:
    """Link partner beneficiary lists to the population and social registries.

    Results go to standard output, progress and warnings to standard error.

    \b
    Example:
      registry-link demo                      # standardise and link the shipped sample data
      registry-link standardise sample_data/partner_coop_ar.csv \\
          --config configs/partner_coop_ar.yaml
    """


def _register() -> None:
    for name in COMMAND_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:  # a command still being built is simply absent
            if exc.name == name:
                continue
            raise
        for command in getattr(module, "commands", [module.command]):
            cli.add_command(command)


_register()


def show_warning(
    message: Warning | str,
    category: type[Warning],
    filename: str,
    lineno: int,
    file: TextIO | None = None,
    line: str | None = None,
) -> None:
    """How the CLI prints a warning: registry-link's own (an oversized block skipped, a
    lock waited for...) as one ``warning: ...`` line on standard error, without the file,
    line and source code Python adds (an operator's note, not a programmer's); any other
    package's warnings as Python prints them."""
    if category.__module__.split(".")[0] == "registry_link":
        click.echo(f"warning: {message}", err=True)
    else:
        _python_showwarning(message, category, filename, lineno, file, line)


_python_showwarning: Any = warnings.showwarning


def main(argv: list[str] | None = None) -> None:
    """Entry point: run the CLI, turning user errors into one clean line and exit code, and
    its own warnings into one line each (:func:`show_warning`)."""
    try:
        with warnings.catch_warnings():
            warnings.showwarning = show_warning
            cli.main(args=argv, prog_name="registry-link", standalone_mode=False)
    except RegistryLinkError as exc:
        click.echo(f"error: {exc}", err=True)
        for note in getattr(exc, "__notes__", ()):
            click.echo(f"  ({note})", err=True)
        sys.exit(exc.exit_code)
    except click.exceptions.Abort:
        click.echo("aborted", err=True)
        sys.exit(130)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
