"""The commit-msg hook's light start-up: what it leaves unimported, and that it changes nothing."""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys
from pathlib import Path

import pytest

from gitops_health.hooks.commit_msg import _parser, parse_args
from gitops_health.rules.config.commit_msg import CommitMsgConfig
from gitops_health.rules.config.commit_msg_defaults import DEFAULTS

HEAVY = ("argparse", "dataclasses", "inspect", "typing", "yaml")
PROBE = """
import json, sys
before = set(sys.modules)
from gitops_health.hooks.commit_msg import main
code = main(sys.argv[1:])
print(json.dumps({"code": code, "new": sorted(set(sys.modules) - before)}))
"""


def _probe(repo: Path, *argv: str) -> dict[str, object]:
    """The hook's exit code and the modules it imported, run in a fresh interpreter."""
    done = subprocess.run(
        [sys.executable, "-c", PROBE, *argv],
        cwd=repo,
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(done.stdout.splitlines()[-1])  # type: ignore[no-any-return]


def test_without_a_policy_file_nothing_heavy_is_imported(repo: Path) -> None:
    (repo / "msg").write_text("feat(api): add the login form\n\nRefs: #1\n# comment\n")
    result = _probe(repo, "msg")
    assert result["code"] == 0
    assert [name for name in HEAVY if name in result["new"]] == []  # type: ignore[operator]


def test_a_policy_file_still_loads_yaml_and_applies(repo: Path) -> None:
    (repo / ".gitops-health.yml").write_text("commit_msg:\n  types: [wip]\n")
    (repo / "msg").write_text("feat: x\n")
    result = _probe(repo, "msg")
    assert result["code"] == 1 and "yaml" in result["new"]  # type: ignore[operator]


def test_defaults_are_the_policy_defaults() -> None:
    config = CommitMsgConfig()
    fields = [field.name for field in dataclasses.fields(CommitMsgConfig)]
    assert {name: getattr(DEFAULTS, name) for name in fields} == dataclasses.asdict(config)
    assert sorted(name for name in vars(type(DEFAULTS)) if not name.startswith("_")) == sorted(
        fields
    )


def test_defaults_are_read_only() -> None:
    with pytest.raises(AttributeError):
        DEFAULTS.types = ()  # type: ignore[misc]


@pytest.mark.parametrize(
    "argv",
    [
        ["msg"],
        ["-v", "msg"],
        ["msg", "--verbose"],
        ["-v", "-v", "msg"],
        ["--config", "p.yml", "msg"],
        ["msg", "--config=p.yml"],
        ["--config=", "msg"],
        ["--config", "", "msg"],
        ["--config", "a.yml", "msg", "--config", "b.yml"],
        ["--config=-odd.yml", "msg"],
        [""],
        # forms only argparse reads: abbreviations, `--`, `-` and combined flags
        ["--verb", "msg"],
        ["--conf", "p.yml", "msg"],
        ["--", "msg"],
        ["-"],
        ["-vv", "msg"],
    ],
)
def test_command_line_reads_as_argparse_reads_it(argv: list[str]) -> None:
    expected = _parser().parse_args(argv)
    options = parse_args(argv)
    assert (options.file, options.verbose, options.config) == (
        expected.file,
        expected.verbose,
        expected.config,
    )


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        ([], "the following arguments are required: file"),
        (["a", "b"], "unrecognized arguments: b"),
        (["--config", "-x", "msg"], "argument --config: expected one argument"),
        (["msg", "--config"], "argument --config: expected one argument"),
        (["--bogus", "msg"], "unrecognized arguments: --bogus"),
    ],
)
def test_command_line_mistakes_get_argparse_errors(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exc:
        parse_args(argv)
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith("usage: gitops-health commit-msg") and message in err
