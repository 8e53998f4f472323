"""The CLI prints registry-link's own warnings as one ``warning: ...`` line on standard error,
without the file, line number and source line Python adds; other packages' warnings unchanged."""

from __future__ import annotations

import warnings

import pytest

import registry_link.cli as cli_module
from registry_link.block.candidates import OversizedBlockWarning


def _run_warning(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], warning: Warning
) -> str:
    def command(**_: object) -> None:  # the command's work: the library warns
        warnings.warn(warning, stacklevel=2)

    monkeypatch.setattr(cli_module.cli, "main", command)
    cli_module.main([])
    return capsys.readouterr().err


def test_a_library_warning_is_one_clean_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    note = "blocking rule 'names_father': skipped 7 block(s) offering a record more than 30"
    err = _run_warning(monkeypatch, capsys, OversizedBlockWarning(note))
    assert err == f"warning: {note}\n"


def test_other_packages_warnings_go_to_pythons_printer(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    printed: list[tuple[str, type[Warning]]] = []
    monkeypatch.setattr(
        cli_module,
        "_python_showwarning",
        lambda message, category, *_: printed.append((str(message), category)),
    )
    with warnings.catch_warnings():
        warnings.simplefilter("always")
        err = _run_warning(monkeypatch, capsys, DeprecationWarning("old api"))
    assert printed == [("old api", DeprecationWarning)]
    assert err == ""


def test_the_cli_leaves_pythons_warning_printer_as_it_found_it(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    before = warnings.showwarning
    _run_warning(monkeypatch, capsys, OversizedBlockWarning("x"))
    assert warnings.showwarning is before
