"""pre-commit hook `phi-scan`: the lines a commit adds must carry no PHI.

Scans only the added lines of the staged diff (the rest of the staged file is read for keys,
column headers and HL7 segments). A clean commit costs one `git diff` and the stdlib
pre-filter on the added lines: no staged file is read, no policy parsed, and Presidio and
spaCy are never imported.
"""

from __future__ import annotations

import argparse
import functools
import os
import re
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from gitops_health.hooks.help_width import help_formatter
from gitops_health.rules.phi.prefilter import always_skipped, worth_analysis

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing on every commit
if TYPE_CHECKING:
    from gitops_health.rules.config.phi import PhiConfig
    from gitops_health.rules.phi.scan import Hit
    from gitops_health.rules.report import Finding

_HUNK = re.compile(r"^@@ -\d+(?:,\d+)? \+(\d+)(?:,(\d+))? @@")


class GitError(RuntimeError):
    """git failed; the message says what it was asked and what it answered."""


class AddedFile:
    """A staged (or committed) file: its added line numbers and their text as the diff shows."""

    __slots__ = ("_reading", "binary", "lines", "path", "texts")

    def __init__(self, path: str, binary: bool = False) -> None:
        self.path = path  # repository-relative
        self.lines: list[int] = []  # added line numbers in the new version
        self.texts: list[str] = []
        self.binary = binary
        self._reading: bool | None = None

    def needs_reading(self) -> bool:
        """Must the whole file be read and scanned? Not when no added line is a candidate."""
        if self._reading is None:
            self._reading = self.binary or self._candidates_added()
        return self._reading

    def _candidates_added(self) -> bool:
        if not self.lines or always_skipped(self.path):
            return False
        if any("\ufffd" in text for text in self.texts):
            return True  # not UTF-8: the file's own decoding decides
        return worth_analysis(self.path, dict(zip(self.lines, self.texts, strict=True)), self.lines)


def git(root: Path | None, *args: str, data: bytes | None = None) -> bytes:
    """git's stdout; `data` goes to its stdin. A GitError says what failed and why."""
    command = ["git", *(("-C", str(root)) if root else ()), "-c", "core.quotePath=false", *args]
    try:
        if data is None and hasattr(os, "posix_spawnp"):
            code, stdout, stderr = _spawned(command)
        else:
            import subprocess

            done = subprocess.run(command, input=data, capture_output=True, check=False)
            code, stdout, stderr = done.returncode, done.stdout, done.stderr
    except FileNotFoundError as exc:
        raise GitError("git is not installed or not on PATH") from exc
    if code != 0:
        message = stderr.decode(errors="replace").strip()
        raise GitError(f"`git {' '.join(args[:3])}` failed: {message}")
    return stdout


def _spawned(command: list[str]) -> tuple[int, bytes, bytes]:
    """(exit code, stdout, stderr) without importing subprocess, which costs milliseconds on
    every commit. git writes little to stderr, so reading it after stdout cannot block."""
    out_read, out_write = os.pipe()
    err_read, err_write = os.pipe()
    actions = [(os.POSIX_SPAWN_DUP2, out_write, 1), (os.POSIX_SPAWN_DUP2, err_write, 2)]
    try:
        pid = os.posix_spawnp(command[0], command, os.environ, file_actions=actions)
    except OSError:
        os.close(out_read)
        os.close(err_read)
        raise
    finally:
        os.close(out_write)
        os.close(err_write)
    with os.fdopen(out_read, "rb") as out, os.fdopen(err_read, "rb") as err:
        stdout, stderr = out.read(), err.read()
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status), stdout, stderr


def repo_root() -> Path:
    """The work tree root. pre-commit runs hooks from there, which spares a `git rev-parse`."""
    if os.path.exists(".git"):
        return Path.cwd()
    return Path(git(None, "rev-parse", "--show-toplevel").decode().strip())


def diff_path(text: str) -> str:
    """A path as `git diff` prints it: a tab ends names with spaces; odd names are C-quoted."""
    text = text.removesuffix("\t")
    if len(text) > 1 and text[0] == text[-1] == '"':
        raw = text[1:-1].encode("latin-1", "backslashreplace").decode("unicode_escape")
        return raw.encode("latin-1").decode("utf-8", errors="replace")
    return text


def parse_added_lines(diff: str) -> list[AddedFile]:
    """Files and added lines from `git diff -U0` output (files with none included). Lines are
    split at `\n` only, as git numbers them."""
    files: list[AddedFile] = []
    current: AddedFile | None = None
    number = 0
    for line in diff.split("\n"):
        if line.startswith("diff --git "):
            current = None
        elif line.startswith("+++ "):
            target = diff_path(line[4:])
            current = None if target == "/dev/null" else AddedFile(target.removeprefix("b/"))
            if current is not None:
                files.append(current)
        elif line.startswith("Binary files ") and line.endswith(" differ"):
            path = diff_path(line.split(" and ", 1)[-1].removesuffix(" differ"))
            files.append(AddedFile(path.removeprefix("b/"), binary=True))
        elif (match := _HUNK.match(line)) is not None:
            number = int(match.group(1))
        elif current is not None and line.startswith("+"):
            text = line[1:].removesuffix("\r")
            current.lines.append(number)
            current.texts.append(text.lstrip("\ufeff") if number == 1 else text)
            number += 1
    return files


def diff_added(root: Path, *revisions: str, paths: Sequence[str] = ()) -> list[AddedFile]:
    """Added lines of the staged diff (no revisions) or of `A..B` (two revisions)."""
    cached = () if revisions else ("--cached",)
    args = ("diff", *cached, "-U0", "--no-color", "--no-ext-diff", "-M", "--diff-filter=ACMR")
    output = git(root, *args, *revisions, "--", *paths)
    return parse_added_lines(output.decode("utf-8", errors="replace"))


def read_blobs(root: Path, specs: Sequence[str]) -> list[bytes]:
    """Contents of `:path` (staged) or `rev:path` objects, in one `git cat-file` process."""
    if not specs:
        return []
    output = git(root, "cat-file", "--batch", data="".join(f"{s}\n" for s in specs).encode())
    blobs, position = [], 0
    for _ in specs:
        end = output.index(b"\n", position)
        header = output[position:end].split()
        if header[-1] == b"missing":
            blobs.append(b"")
            position = end + 1
            continue
        size = int(header[2])
        blobs.append(output[end + 1 : end + 1 + size])
        position = end + 1 + size + 1
    return blobs


def load_config(root: Path, policy_path: str | None) -> PhiConfig:
    path = Path(policy_path) if policy_path else root / ".gitops-health.yml"
    if not path.is_file():
        if policy_path:
            raise FileNotFoundError(f"policy file {policy_path} does not exist")
        from gitops_health.rules.config.phi import PhiConfig

        return PhiConfig()
    from gitops_health.rules.config.policy import load_policy

    return load_policy(path).phi


def scan_added(
    root: Path, files: Sequence[AddedFile], config: PhiConfig, revision: str = ""
) -> list[Hit]:
    """Hits on the added lines, each file read whole from the index or `revision`."""
    from gitops_health.rules.phi.scan import is_skipped, scan_bytes

    wanted = [f for f in files if f.needs_reading() and not is_skipped(f.path, config)]
    blobs = read_blobs(root, [f"{revision}:{f.path}" for f in wanted])
    hits = []
    for added, data in zip(wanted, blobs, strict=True):
        hits += scan_bytes(added.path, data, config, None if added.binary else added.lines)
    return hits


def scan_whole_files(names: Sequence[str], config: PhiConfig) -> list[Hit]:
    """Files named without staged changes (`pre-commit run --all-files`): scanned whole."""
    if not names:
        return []
    from gitops_health.rules.phi.scan import scan_bytes

    return [hit for name in names for hit in scan_bytes(name, Path(name).read_bytes(), config)]


def add_output_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--format",
        choices=("text", "jsonl", "sarif"),
        default="text",
        help="output format (default: text, values masked)",
    )
    parser.add_argument("--policy", help="policy file (default: <repo>/.gitops-health.yml)")
    parser.add_argument("--baseline", help="baseline file (default: the policy's phi.baseline)")
    parser.add_argument("--no-baseline", action="store_true", help="report baselined findings too")


def report(
    hits: list[Hit],
    config: PhiConfig | None,
    root: Path,
    args: argparse.Namespace,
    scanned: str,
    started: float,
) -> int:
    """Print findings not in the baseline (values masked) and a summary; 1 when any remain."""
    findings, known = _new_findings(hits, config, root, args) if hits else ([], 0)
    if findings or args.format == "sarif":  # an empty SARIF log is still a log
        from gitops_health.rules.phi.output import render

        sys.stdout.write(render(findings, args.format))
    elapsed = (time.perf_counter() - started) * 1000
    extra = f", {known} in baseline" if known else ""
    print(
        f"phi-scan: {scanned}, {len(findings)} finding(s){extra}, {elapsed:.0f} ms", file=sys.stderr
    )
    if findings and args.format == "text":
        print(
            "phi-scan: remove the values, mark a line with `phi:allow` if it is not PHI, or "
            "accept existing ones with `gitops-health phi baseline update`",
            file=sys.stderr,
        )
    return 1 if findings else 0


def _new_findings(
    hits: list[Hit], config: PhiConfig | None, root: Path, args: argparse.Namespace
) -> tuple[list[Finding], int]:
    """(findings not in the baseline, how many were) — fingerprints name repo-relative paths."""
    from gitops_health.rules.phi.baseline import load_baseline
    from gitops_health.rules.phi.scan import DEFAULT_SALT, to_finding

    baseline = None
    if not args.no_baseline and config is not None:
        baseline = load_baseline(Path(args.baseline) if args.baseline else root / config.baseline)
    salt = baseline.salt if baseline else DEFAULT_SALT
    relative = repo_paths(root)
    findings = [to_finding(hit, salt, key_path=relative(hit.path)) for hit in hits]
    if baseline is None:
        return findings, 0
    fresh = [f for f in findings if f.fingerprint not in baseline.entries]
    return fresh, len(findings) - len(fresh)


def repo_paths(root: Path) -> Callable[[str], str]:
    """Path as given → repository-relative path (baselines key findings by the latter)."""
    resolved = root.resolve()

    @functools.cache
    def relative(path: str) -> str:
        try:
            return Path(path).resolve().relative_to(resolved).as_posix()
        except ValueError:
            return path

    return relative


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        formatter_class=help_formatter,
        prog="gitops-health-phi-scan",
        description="Fail when the staged changes add PHI (HIPAA Safe Harbor identifiers).",
    )
    parser.add_argument("files", nargs="*", help="staged files to check (default: all staged)")
    parser.add_argument(
        "--all-files",
        action="store_true",
        help="scan the named files whole, as in the working tree (files named without staged "
        "changes are always scanned whole, as `pre-commit run --all-files` passes them)",
    )
    add_output_options(parser)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    started = time.perf_counter()
    args = _parser().parse_args(argv)
    try:
        root = repo_root()
        added = [] if args.all_files else diff_added(root, paths=args.files)
        staged = {f.path for f in added}
        whole = [name for name in args.files if name not in staged and os.path.isfile(name)]
        pending = [f for f in added if f.needs_reading()]
        count = sum(len(f.lines) for f in added)
        scanned = f"{len(added)} staged file(s), {count} added line(s), {len(whole)} whole file(s)"
        if not pending and not whole:  # the common case: nothing looks like PHI
            return report([], None, root, args, scanned, started)
        config = load_config(root, args.policy)
        if not config.enabled:
            return 0
        hits = scan_added(root, pending, config) + scan_whole_files(whole, config)
        return report(hits, config, root, args, scanned, started)
    except (GitError, OSError, ValueError, RuntimeError) as exc:
        print(f"phi-scan: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
