"""`gitops-health commit-msg FILE`: the Conventional Commits commit-msg hook.

Kept light on purpose (it runs on every commit): no GitPython, no argparse for the command
lines git and pre-commit pass, and without a policy file no YAML and no dataclasses.
"""

from __future__ import annotations

import os
import sys

from gitops_health.hooks.help_width import help_formatter
from gitops_health.rules.commitmsg import (
    RULE_HELP,
    Problem,
    clean_message,
    corrected_header,
    lint_message,
)
from gitops_health.rules.config import POLICY_FILE
from gitops_health.rules.config.commit_msg_defaults import DEFAULTS

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (mypy knows the name)
if TYPE_CHECKING:
    import argparse
    from collections.abc import Sequence

    from gitops_health.rules.commitmsg import Config

EXCERPT_WIDTH = 120


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    _tolerant_output()
    try:
        text = read_text(args.file)
    except OSError as exc:
        print(f"gitops-health commit-msg: cannot read {args.file}: {exc.strerror}")
        return 1
    try:
        config = load_config(args.config or default_policy_path())
    except OSError as exc:
        print(f"gitops-health commit-msg: cannot read the policy {exc.filename}: {exc.strerror}")
        return 1
    except ValueError as exc:  # ConfigInvalid: every error with its path and line
        print(f"gitops-health commit-msg: {exc}\nFix the policy file "
              "(`gitops-health policy validate` lists every error).")  # fmt: skip
        return 1
    comment_char = git_comment_char()
    problems = lint_message(text, config, comment_char)
    if not problems:
        return 0
    cleaned = clean_message(text, comment_char)
    print(render(cleaned, problems, config, verbose=args.verbose, file=args.file))
    return 1


class Options:
    """The parsed command line (what argparse's Namespace holds)."""

    __slots__ = ("config", "file", "verbose")

    def __init__(self, file: str, verbose: bool, config: str | None) -> None:
        self.file = file
        self.verbose = verbose
        self.config = config


def parse_args(argv: Sequence[str] | None) -> Options:
    """The options. The plain forms (`FILE`, `-v`, `--verbose`, `--config X`, `--config=X`)
    are read directly; anything else (help, abbreviations, mistakes) goes to argparse, whose
    import costs more than linting the message."""
    args = list(sys.argv[1:] if argv is None else argv)
    plain = _plain_options(args)
    if plain is not None:
        return plain
    namespace = _parser().parse_args(args)
    return Options(namespace.file, namespace.verbose, namespace.config)


def _plain_options(args: list[str]) -> Options | None:
    """The options when every argument has a plain form argparse reads the same way, else None."""
    files: list[str] = []
    verbose, config = False, None
    tokens = iter(args)
    for token in tokens:
        if token in ("-v", "--verbose"):
            verbose = True
        elif token == "--config":
            config = next(tokens, None)
            if config is None or config.startswith("-"):
                return None
        elif token.startswith("--config="):
            config = token.removeprefix("--config=")
        elif token.startswith("-"):
            return None
        else:
            files.append(token)
    return Options(files[0], verbose, config) if len(files) == 1 else None


def _parser() -> argparse.ArgumentParser:
    import argparse

    parser = argparse.ArgumentParser(
        prog="gitops-health commit-msg",
        formatter_class=help_formatter,
        description="Check a commit message against Conventional Commits 1.0.0 and the policy.",
    )
    parser.add_argument("file", help="the commit message file git passes (.git/COMMIT_EDITMSG)")
    parser.add_argument("-v", "--verbose", action="store_true", help="explain every rule broken")
    parser.add_argument("--config", help=f"policy file (default: {POLICY_FILE} at the repo root)")
    return parser


def _tolerant_output() -> None:
    """Never crash on a terminal that cannot show the message's characters."""
    for stream in (sys.stdout, sys.stderr):
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is not None:
            reconfigure(errors="replace")


def read_text(path: str) -> str:
    """A file's text; bytes that are not UTF-8 become U+FFFD instead of an error."""
    with open(path, "rb") as file:
        return file.read().decode("utf-8", errors="replace")


def _git(*args: str) -> str | None:
    """git's stdout, or None when it fails. posix_spawn: importing subprocess costs ms."""
    if not hasattr(os, "posix_spawnp"):  # Windows
        import subprocess

        try:
            done = subprocess.run(["git", *args], capture_output=True, text=True, check=False)
        except OSError:
            return None
        return done.stdout if done.returncode == 0 else None
    read_end, write_end = os.pipe()
    streams = [
        (os.POSIX_SPAWN_DUP2, write_end, 1),
        (os.POSIX_SPAWN_OPEN, 2, os.devnull, os.O_WRONLY, 0),
    ]
    try:
        pid = os.posix_spawnp("git", ["git", *args], os.environ, file_actions=streams)
    except OSError:
        os.close(read_end)
        return None
    finally:
        os.close(write_end)
    with os.fdopen(read_end, "rb") as pipe:
        out = pipe.read()
    _, status = os.waitpid(pid, 0)
    return out.decode("utf-8", errors="replace") if os.waitstatus_to_exitcode(status) == 0 else None


def repo_root() -> str | None:
    """The work tree root. Git runs hooks from there, which spares a `git rev-parse`.

    (os.path rather than pathlib: one import less on every commit.)
    """
    if os.path.exists(".git"):
        return os.getcwd()
    top = _git("rev-parse", "--show-toplevel")
    return top.strip() if top else None


def git_comment_char() -> str:
    """`core.commentChar` (or git 2.45's `core.commentString`); `#` when unset."""
    out = _git("config", "--get-regexp", r"^core\.comment(char|string)$")
    values = [line.split(" ", 1)[1] for line in (out or "").splitlines() if " " in line]
    return values[-1] if values and values[-1] else "#"


def default_policy_path() -> str | None:
    """`.gitops-health.yml` at the work tree root, when the repository has one."""
    root = repo_root()
    path = os.path.join(root, POLICY_FILE) if root else None
    return path if path and os.path.isfile(path) else None


def load_config(path: str | None) -> Config:
    """The `commit_msg:` section of the policy file, or the defaults when there is none."""
    if path is None:
        return DEFAULTS
    from gitops_health.rules.config.commit_msg import CommitMsgConfig
    from gitops_health.rules.config.schema import load_key

    text = read_text(path)
    return load_key(CommitMsgConfig, text, path, "commit_msg")  # type: ignore[no-any-return]


def render(
    cleaned: str, problems: list[Problem], config: Config, *, verbose: bool, file: str
) -> str:
    """One line per problem, under the line it is about, with a caret span and an example."""
    count = f"{len(problems)} problem{'s' if len(problems) != 1 else ''}"
    out = [f"commit message rejected by gitops-health conventional-commit ({count}):", ""]
    lines = cleaned.split("\n") if cleaned else []
    by_line: dict[int, list[Problem]] = {}
    for problem in problems:
        by_line.setdefault(problem.line, []).append(problem)
    for number in sorted(by_line):
        if 0 < number <= len(lines):
            out.append(f"  {number:>3} | {_excerpt(lines[number - 1])}")
        for problem in by_line[number]:
            out.append(_problem_line(problem, number > 0))
            if verbose:
                out += _explanation(problem.rule)
    header_problems = [p for p in problems if p.line == 1]
    if lines and len(header_problems) > 1:
        out += ["", f"  corrected header: {corrected_header(lines[0], config)}"]
    out += [
        "",
        f"Fix the message and commit again: git commit --edit --file={file}",
        *([] if verbose else ["Run `gitops-health commit-msg --verbose FILE` for explanations."]),
    ]
    return "\n".join(out)


def _excerpt(line: str) -> str:
    line = line.replace("\t", " ")
    return line if len(line) <= EXCERPT_WIDTH else line[: EXCERPT_WIDTH - 1] + "…"


def _problem_line(problem: Problem, under_a_line: bool) -> str:
    example = f"  e.g. `{problem.example}`" if problem.example else ""
    text = f"{problem.rule}: {problem.message}{example}"
    if not under_a_line:
        return f"      * {text}"
    start = min(max(problem.column, 1), EXCERPT_WIDTH)
    width = max(1, min(problem.end_column, EXCERPT_WIDTH + 1) - start) if problem.column else 1
    return f"      | {' ' * (start - 1)}{'^' * width} {text}"


def _explanation(rule: str) -> list[str]:
    why, key = RULE_HELP.get(rule, ("", ""))
    lines = [f"          {why}"] if why else []
    if key:
        lines.append(f"          Configure it in {POLICY_FILE}: `{key}`.")
    return lines


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
