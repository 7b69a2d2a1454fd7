"""What ``osop validate`` does and prints, free of the command framework (click).

:mod:`osop.cli.validate_cmd` is the click command. :func:`fast_validate` answers
the plain form — ``osop validate PATH...``, no option — without importing click
at all (about a tenth of validating a small file is importing click): it prints
exactly what the command prints, through a copy of the little of ``click.echo``
and ``click.style`` the text report uses. Everything else (options, stdin, a path
that matches nothing, a library error, an odd stdout) is left to the click
command, which then does the whole work itself, so its messages stay its own.
"""

from __future__ import annotations

import io
import os
import sys
from collections.abc import Callable, Sequence

from osop.cli.paths import iter_paths
from osop.diagnostics import Issue
from osop.format.loader import DEFAULT_MAX_BYTES, DocumentKind
from osop.format.validate import ValidationReport, validate_path, validate_text
from osop.format.workflow import Workflow

__all__ = ["NoDocuments", "collect_reports", "fast_form", "fast_validate", "print_text"]

#: ``echo(text)``: print a line (``click.echo``, or a copy of it without click).
Echo = Callable[[str], None]
#: ``style(text, fg, bold)``: colour a line (``click.style`` or :func:`_style`).
Style = Callable[..., str]

_COLOURS = {"error": "red", "warning": "yellow", "info": "blue"}


class NoDocuments(Exception):
    """The paths named folders or globs with no OSOP document in them."""


def collect_reports(
    paths: Sequence[str],
    *,
    workflow: Workflow | None,
    max_bytes: int,
    kind: DocumentKind | None,
    read_stdin: Callable[[], bytes] | None = None,
) -> list[ValidationReport]:
    """One report per document the paths name (``-``: stdin, read by ``read_stdin``)."""
    reports: list[ValidationReport] = []
    for item in iter_paths(paths):
        if item == "-":
            assert read_stdin is not None
            reports.append(
                validate_text(
                    read_stdin(), "<stdin>", workflow=workflow, max_bytes=max_bytes, kind=kind
                )
            )
        else:
            reports.append(validate_path(item, workflow=workflow, max_bytes=max_bytes, kind=kind))
    if not reports:
        raise NoDocuments("no OSOP documents found in the given paths")
    return reports


def _excerpt(report: ValidationReport, issue: Issue) -> str | None:
    doc = report.document
    if doc is None or issue.line is None:
        return None
    text = doc.line_text(issue.line)
    if not text.strip():
        return None
    column = max(1, issue.column or 1)
    shown = text.expandtabs(1)
    if len(shown) > 100:  # keep the caret visible on long lines
        start = max(0, column - 60)
        shown = ("…" if start else "") + shown[start : start + 100]
        column = column - start + (1 if start else 0)
    return f"    {shown}\n    {' ' * _cells(shown[: column - 1])}^"


def _cells(text: str) -> int:
    """Terminal cells ``text`` takes: East Asian wide characters take two."""
    import unicodedata  # only an error's excerpt needs it

    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def print_text(
    reports: list[ValidationReport], *, color: bool, quiet: bool, echo: Echo, style: Style
) -> None:
    """The text report: one line per issue (errors with an excerpt), a summary per file."""
    for report in reports:
        for issue in report.issues:
            if quiet and issue.severity != "error":
                continue
            line = issue.format(report.file)
            echo(style(line, fg=_COLOURS.get(issue.severity)) if color else line)
            excerpt = _excerpt(report, issue)
            if excerpt and issue.severity == "error":
                echo(excerpt)
        if quiet:
            continue
        status = "valid" if report.valid else "invalid"
        level = f", conformance level {report.level}" if report.level is not None else ""
        counts = f"{len(report.errors)} error(s), {len(report.warnings)} warning(s)"
        summary = f"{report.file}: {status} {report.kind or 'document'}{level} — {counts}"
        echo(style(summary, bold=True) if color else summary)
    if len(reports) > 1 and not quiet:
        bad = sum(1 for r in reports if not r.valid)
        echo(f"{len(reports)} file(s) checked, {bad} invalid")


# --- the plain form without click ------------------------------------------------------

#: ``click.style``'s codes for the colours the report uses.
_FG_CODES = {"red": 31, "yellow": 33, "blue": 34}
#: ``click.echo`` strips these from output that is not a terminal (its own pattern).
_ANSI = r"\033\[[0-?]*[ -/]*[@-~]"


def _style(text: str, fg: str | None = None, bold: bool | None = None) -> str:
    """``click.style(text, fg=fg, bold=bold)`` for the styles the report uses."""
    codes = f"\033[{_FG_CODES[fg]}m" if fg is not None else ""
    if bold is not None:
        codes += f"\033[{1 if bold else 22}m"
    return f"{codes}{text}\033[0m"


def _isatty(stream: io.TextIOWrapper) -> bool:
    try:
        return stream.isatty()
    except Exception:  # as click.echo: a stream that cannot tell is no terminal
        return False


def fast_form(args: Sequence[str]) -> bool:
    """Whether ``osop ARGS`` is the plain ``validate PATH...`` this module answers itself.

    Only paths (nothing that looks like an option, no stdin), the completion hook
    not asked for, and a text stdout that ``click.echo`` would write to as it is
    (a non-ASCII encoding: click re-wraps an ASCII one).
    """
    if len(args) < 2 or args[0] != "validate" or sys.platform.startswith("win"):
        return False  # Windows: click expands globs in argv itself
    if not all(arg and not arg.startswith("-") for arg in args[1:]):
        return False
    if "_OSOP_COMPLETE" in os.environ:  # click's shell-completion hook
        return False
    stdout = sys.stdout
    if not isinstance(stdout, io.TextIOWrapper) or getattr(stdout, "errors", None) is None:
        return False
    import codecs

    try:
        return codecs.lookup(stdout.encoding or "ascii").name != "ascii"
    except LookupError:
        return False


def fast_validate(args: Sequence[str]) -> None:
    """Validate ``args[1:]`` and exit as ``osop validate`` does; return when click must.

    The caller checked :func:`fast_form`. Nothing is printed before every document
    has been validated, so handing over to click (a path that matches nothing, no
    document found, a library error) repeats no output.
    """
    try:
        try:
            reports = collect_reports(
                args[1:], workflow=None, max_bytes=DEFAULT_MAX_BYTES, kind=None
            )
        except Exception:
            return  # the click command says it, in its own words (or its traceback)
        _print_and_exit(reports)
    except KeyboardInterrupt:  # as click's main: a blank line, then "Aborted!"
        for line in ("\n", "Aborted!\n"):
            sys.stderr.write(line)
            sys.stderr.flush()
        sys.exit(1)


def _print_and_exit(reports: list[ValidationReport]) -> None:
    stdout = sys.stdout
    assert isinstance(stdout, io.TextIOWrapper)
    color = stdout.isatty()
    strip = None
    if not _isatty(stdout):
        import re

        strip = re.compile(_ANSI)

    def echo(text: str) -> None:
        out = text + "\n"
        stdout.write(strip.sub("", out) if strip is not None else out)
        stdout.flush()

    try:
        print_text(reports, color=color, quiet=False, echo=echo, style=_style)
    except BrokenPipeError:  # `osop validate ... | head`: as handle_errors
        sys.stderr.close()
        sys.exit(0)
    sys.exit(0 if all(r.ok() for r in reports) else 1)
