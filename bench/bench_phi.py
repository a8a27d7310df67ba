"""PHI benchmark: accuracy on the synthetic corpus, noise on real code, speed and memory.

Runs our engine side by side with vanilla Presidio (blank spaCy pipeline, default recognizers,
threshold 0, in a child process like ours) and detect-secrets 1.5.0 (from a throw-away venv:
`DETECT_SECRETS`, else /tmp/ds-venv, created with pip when missing; skipped if that fails) on
the same inputs. Every process is timed by wall clock and by CPU (user+sys of the child, which
is what to compare on a busy machine), with its own peak RSS. Children run with a bytecode
cache (as an installed package has), kept in a temporary directory.
Prints a Markdown section for bench/RESULTS.md. Usage: .venv/bin/python bench/bench_phi.py
[--quick]
"""

from __future__ import annotations

import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from datetime import date
from pathlib import Path
from typing import NamedTuple

from gitops_health.rules.config.phi import PhiConfig
from gitops_health.rules.phi import scan_bytes
from gitops_health.rules.phi.corpus import CorpusFile, Score, evaluate, generate

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
SITE = Path(next(p for p in sys.path if p.endswith("site-packages")))
REAL_CODE = (
    "flask",
    "werkzeug",
    "jinja2",
    "click",
    "yaml",
    "git",
    "sqlalchemy",
    "alembic",
    "github",
    "atlassian",
    "huey",
    "redis",
    "pygments",
    "requests",
    "urllib3",
    "_pytest",
    "hypothesis",
    "jsonschema",
    "pre_commit",
    "cryptography",
)
VANILLA_TYPES = {
    "PERSON": "PERSON",
    "LOCATION": "ADDRESS",
    "DATE_TIME": "DATE",
    "PHONE_NUMBER": "PHONE",
    "EMAIL_ADDRESS": "EMAIL",
    "US_SSN": "SSN",
    "CREDIT_CARD": "ACCOUNT_NUMBER",
    "US_BANK_NUMBER": "ACCOUNT_NUMBER",
    "IBAN_CODE": "ACCOUNT_NUMBER",
    "US_DRIVER_LICENSE": "LICENSE_NUMBER",
    "MEDICAL_LICENSE": "DEA",
    "URL": "URL",
    "IP_ADDRESS": "IP_ADDRESS",
    "US_NPI": "NPI",
    "US_MBI": "MBI",
}


def _text_files(packages: Sequence[str], limit_bytes: int) -> list[Path]:
    files: list[Path] = []
    size = 0
    for package in packages:
        for path in sorted((SITE / package).rglob("*")):
            if (
                path.suffix
                in (
                    ".py",
                    ".pyi",
                    ".txt",
                    ".md",
                    ".rst",
                    ".json",
                    ".yaml",
                    ".cfg",
                    ".html",
                    ".js",
                    ".css",
                    ".toml",
                    ".ini",
                )
                and path.is_file()
            ):
                files.append(path)
                size += path.stat().st_size
                if size >= limit_bytes:
                    return files
    return files


def _copy_tree(files: Sequence[Path], target: Path) -> int:
    total = 0
    for path in files:
        destination = target / path.relative_to(SITE)
        destination.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, destination)
        total += path.stat().st_size
    return total


def _lines(files: Sequence[Path]) -> int:
    return sum(p.read_bytes().count(b"\n") for p in files)


class Run(NamedTuple):
    wall: float  # seconds
    cpu: float  # seconds of user+sys in the child (and the processes it waited for)
    peak_mb: int  # the child's own peak RSS
    stdout: str
    stderr: str


ENV: dict[str, str] = dict(os.environ)


def _with_bytecode_cache(work: Path) -> None:
    """Children compile to a cache in `work` (an installed package ships its .pyc files)."""
    ENV.pop("PYTHONDONTWRITEBYTECODE", None)
    ENV["PYTHONPYCACHEPREFIX"] = str(work / "pycache")


# Runs the measured command as its own child and reports that child's usage. A child forked by
# this (large) process would report our peak RSS as its own; one forked by this small launcher
# starts from the launcher's few MB.
_LAUNCHER = """
import os, subprocess, sys, time
started = time.perf_counter()
process = subprocess.Popen(sys.argv[2:])
_, status, usage = os.wait4(process.pid, 0)
wall = time.perf_counter() - started
with open(sys.argv[1], "w") as report:
    report.write(f"{wall} {usage.ru_utime + usage.ru_stime} {usage.ru_maxrss}")
"""


def _run(command: Sequence[str], cwd: Path | None = None) -> Run:
    """One process, measured on its own: wall time, CPU (user+sys) and peak RSS of that process
    (not of the launcher)."""
    with tempfile.TemporaryDirectory() as scratch:
        usage = Path(scratch) / "usage"
        out, err = Path(scratch) / "out", Path(scratch) / "err"
        with out.open("wb") as stdout, err.open("wb") as stderr:
            launcher = [sys.executable, "-c", _LAUNCHER, str(usage), *command]
            subprocess.run(launcher, cwd=cwd, env=ENV, stdout=stdout, stderr=stderr, check=False)
        wall, cpu, peak_kb = usage.read_text().split()
        return Run(
            float(wall),
            float(cpu),
            int(peak_kb) // 1024,
            out.read_text(errors="replace"),
            err.read_text(errors="replace"),
        )


def _vanilla_analyzer():  # type: ignore[no-untyped-def]
    import spacy
    from presidio_analyzer import AnalyzerEngine
    from presidio_analyzer.nlp_engine import SpacyNlpEngine

    class Blank(SpacyNlpEngine):
        def load(self) -> None:
            self.nlp = {"en": spacy.blank("en")}

    return AnalyzerEngine(nlp_engine=Blank(models=[{"lang_code": "en", "model_name": "blank"}]))


def _vanilla_predictions(files: Sequence[CorpusFile]) -> dict[str, set[tuple[int, str]]]:
    analyzer = _vanilla_analyzer()
    predictions: dict[str, set[tuple[int, str]]] = {}
    for corpus_file in files:
        found: set[tuple[int, str]] = set()
        if corpus_file.data is None:
            text = corpus_file.text
            for result in analyzer.analyze(text, language="en"):
                line = text.count("\n", 0, result.start) + 1
                found.add((line, VANILLA_TYPES.get(result.entity_type, result.entity_type)))
        predictions[corpus_file.path] = found
    return predictions


def _ours_predictions(files: Sequence[CorpusFile]) -> dict[str, set[tuple[int, str]]]:
    config = PhiConfig()
    return {
        f.path: {(h.line, h.entity_type) for h in scan_bytes(f.path, f.content, config)}
        for f in files
    }


def _accuracy_table(ours: dict[str, Score], vanilla: dict[str, Score]) -> list[str]:
    rows = [
        "| type | ours P | ours R | vanilla P | vanilla R | labels |",
        "|---|---|---|---|---|---|",
    ]
    labelled = {e: s for e, s in ours.items() if s.true_positives + s.false_negatives}
    for entity, score in labelled.items():
        other = vanilla.get(
            entity, Score(false_negatives=score.true_positives + score.false_negatives)
        )
        rows.append(
            f"| {entity} | {score.precision:.3f} | {score.recall:.3f} | "
            f"{other.precision:.3f} | {other.recall:.3f} | "
            f"{score.true_positives + score.false_negatives} |"
        )
    rows.append(
        f"| **all (micro)** | {_micro(ours)[0]:.3f} | {_micro(ours)[1]:.3f} | "
        f"{_micro(vanilla)[0]:.3f} | {_micro(vanilla)[1]:.3f} | "
        f"{sum(s.true_positives + s.false_negatives for s in ours.values())} |"
    )
    return rows


def _micro(scores: dict[str, Score]) -> tuple[float, float]:
    tp = sum(s.true_positives for s in scores.values())
    fp = sum(s.false_positives for s in scores.values())
    fn = sum(s.false_negatives for s in scores.values())
    return tp / max(1, tp + fp), tp / max(1, tp + fn)


def _clean_commit_repo(work: Path, source: Sequence[Path]) -> Path:
    """A repo whose index adds 20 files with 1,000 lines of real, clean Python."""
    repo = work / "commit"
    repo.mkdir()
    subprocess.run(["git", "init", "-q"], cwd=repo, check=True)
    lines = [line for p in source for line in p.read_text(errors="replace").splitlines()]
    lines = [line for line in lines if line.strip()][:1000]
    for index in range(20):
        (repo / f"mod_{index}.py").write_text(
            "\n".join(lines[index * 50 : (index + 1) * 50]) + "\n"
        )
    subprocess.run(["git", "add", "."], cwd=repo, check=True)
    return repo


def _median_runs(command: Sequence[str], cwd: Path, times: int) -> tuple[float, float, float]:
    """(median wall ms, median CPU ms, lowest CPU ms) of `times` runs after one warm-up."""
    _run(command, cwd)
    runs = [_run(command, cwd) for _ in range(times)]
    return (
        statistics.median(r.wall for r in runs) * 1000,
        statistics.median(r.cpu for r in runs) * 1000,
        min(r.cpu for r in runs) * 1000,
    )


def _detect_secrets(work: Path) -> str | None:
    """detect-secrets 1.5.0 from DETECT_SECRETS or /tmp/ds-venv, installed there if missing."""
    given = os.environ.get("DETECT_SECRETS")
    if given:
        return given if Path(given).exists() else None
    venv = Path("/tmp/ds-venv")
    tool = venv / "bin" / "detect-secrets"
    if not tool.exists():
        print("bench: installing detect-secrets 1.5.0 into /tmp/ds-venv", file=sys.stderr)
        made = subprocess.run(["python3", "-m", "venv", str(venv)], check=False)
        if made.returncode == 0:
            pip = [str(venv / "bin" / "pip"), "install", "-q", "detect-secrets==1.5.0"]
            subprocess.run(pip, check=False)
    return str(tool) if tool.exists() else None


def vanilla_scan(root: str) -> int:
    """Child-process mode: vanilla Presidio over every text file under `root`."""
    analyzer = _vanilla_analyzer()
    found = 0
    for directory, dirs, names in os.walk(root):
        dirs[:] = [d for d in dirs if d != ".git"]
        for name in names:
            text = (Path(directory) / name).read_text(errors="replace")
            for start in range(0, len(text), 999_000):  # spaCy's max_length
                found += len(analyzer.analyze(text[start : start + 999_000], language="en"))
    print(found)
    return 0


def _dense_tree(work: Path, quick: bool) -> tuple[Path, int]:
    dense = work / "dense"
    size = 0
    for copy in range(4 if quick else 12):
        for corpus_file in generate(seed=copy, copies=3):
            if corpus_file.data is None:
                target = dense / f"{copy}" / corpus_file.path
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_text(corpus_file.text * 8)
                size += len(corpus_file.text) * 8
    return dense, size


def _row(scanner: str, label: str, size: int, lines: int | None, run: Run, found: int) -> str:
    per = f"{found / lines * 1e5:.1f}" if lines else "-"
    return (
        f"| {scanner} | {label} | {size / 1e6:.1f} | {lines or '-'} | {run.wall:.1f} | "
        f"{run.cpu:.1f} | {size / 1e6 / run.cpu:.2f} | {found} | {per} | {run.peak_mb} |"
    )


def main(argv: Sequence[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else list(argv)
    if args[:1] == ["--vanilla-scan"]:
        return vanilla_scan(args[1])
    quick = "--quick" in args
    work = Path(tempfile.mkdtemp(prefix="bench-phi-"))
    _with_bytecode_cache(work)
    load = os.getloadavg()[0]
    out = [
        f"### PHI engine — {date.today()} on {platform.node()} "
        f"({os.cpu_count()} cores, Python {platform.python_version()}, load average {load:.1f} "
        "at the start)",
        "",
    ]

    corpus = generate(seed=2026, copies=2 if quick else 4)
    ours_predictions = _ours_predictions(corpus)
    ours = evaluate(corpus, ours_predictions)
    vanilla = evaluate(corpus, _vanilla_predictions(corpus))
    decoys = [f.path for f in corpus if not f.labels]
    out += [
        f"Accuracy, strict (right line and type), synthetic corpus seed 2026: "
        f"{len(corpus)} files, {len(decoys)} decoy-only "
        f"({sum(bool(ours_predictions[p]) for p in decoys)} flagged by ours).",
        "",
    ]
    out += [*_accuracy_table(ours, vanilla), ""]

    real = _text_files(REAL_CODE, 3_000_000 if quick else 12_000_000)
    clean_tree = work / "clean"
    clean_bytes = _copy_tree(real, clean_tree)
    clean_lines = _lines(real)
    sample = real[: 60 if quick else 200]
    sample_tree = work / "sample"
    sample_bytes, sample_lines = _copy_tree(sample, sample_tree), _lines(sample)
    dense, dense_bytes = _dense_tree(work, quick)
    ours_scan = [
        str(BIN / "gitops-health"),
        "phi",
        "scan",
        ".",
        "--format",
        "jsonl",
        "--no-baseline",
    ]
    vanilla_cmd = [sys.executable, str(Path(__file__).resolve()), "--vanilla-scan", "."]
    detect = _detect_secrets(work)
    rows = [
        "| scanner | input | MB | lines | wall s | CPU s | MB/s (CPU) | findings "
        "| per 100k lines | peak MB |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    # Fill the bytecode cache (Presidio, spaCy and their dependencies too) and the page cache,
    # so no measured run compiles modules.
    _run([sys.executable, "-c", "import gitops_health.rules.phi.analyzer, gitops_health.cli"])
    _run(ours_scan, clean_tree)
    run = _run(ours_scan, clean_tree)
    label = f"real code ({len(REAL_CODE)} packages)"
    rows.append(
        _row("ours `phi scan`", label, clean_bytes, clean_lines, run, len(run.stdout.splitlines()))
    )
    run = _run(ours_scan, dense)
    rows.append(
        _row(
            "ours `phi scan`",
            "PHI-dense fixtures",
            dense_bytes,
            None,
            run,
            len(run.stdout.splitlines()),
        )
    )
    run = _run(vanilla_cmd, sample_tree)
    found = int(run.stdout.strip() or 0)
    rows.append(
        _row("vanilla Presidio", "real code sample", sample_bytes, sample_lines, run, found)
    )
    run = _run(vanilla_cmd, dense)
    found = int(run.stdout.strip() or 0)
    rows.append(_row("vanilla Presidio", "PHI-dense fixtures", dense_bytes, None, run, found))
    if detect:
        for label, tree, size, lines in (
            ("real code", clean_tree, clean_bytes, clean_lines),
            ("PHI-dense fixtures", dense, dense_bytes, None),
        ):
            run = _run([detect, "scan", "--all-files", "."], tree)
            found = run.stdout.count('"hashed_secret"')
            rows.append(_row("detect-secrets 1.5.0", label, size, lines, run, found))
    out += [
        "Throughput, noise and memory (one process per run, start-up included; MB/s from CPU "
        "time, wall seconds for reference):",
        "",
        *rows,
    ]

    repo = _clean_commit_repo(work, real)
    runs = 5 if quick else 15
    hook = _median_runs([str(BIN / "gitops-health-phi-scan")], repo, runs)
    bare = _median_runs([sys.executable, "-c", "pass"], repo, runs)
    vanilla_commit = _median_runs(vanilla_cmd, repo, 3)
    out += [
        "",
        "Clean typical commit (20 files, 1,000 added lines staged), median of "
        f"{runs} runs: hook process **{hook[0]:.0f} ms** wall, {hook[1]:.0f} ms CPU (lowest "
        f"{hook[2]:.0f} ms); bare `python -c pass` {bare[0]:.0f} ms wall, {bare[1]:.0f} ms CPU "
        f"(lowest {bare[2]:.0f} ms). Vanilla Presidio on the same 20 files: "
        f"{vanilla_commit[0]:.0f} ms wall, {vanilla_commit[1]:.0f} ms CPU.",
    ]
    if detect:
        ds = _median_runs([detect, "scan", "--all-files", "."], repo, 3)
        out += [f"detect-secrets on the same 20 files: {ds[0]:.0f} ms wall, {ds[1]:.0f} ms CPU."]
    print("\n".join([*out, ""]))
    shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
