"""PHI benchmark: accuracy on the synthetic corpus, noise on real code, speed and memory.

Runs our engine side by side with vanilla Presidio (blank spaCy pipeline, default recognizers,
threshold 0) and detect-secrets (from a throw-away venv, `DETECT_SECRETS` or
/tmp/ds-venv/bin/detect-secrets; skipped when absent). Prints a Markdown section for
bench/RESULTS.md. Usage: .venv/bin/python bench/bench_phi.py [--quick]
"""

from __future__ import annotations

import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from datetime import date
from pathlib import Path

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


def _run(command: Sequence[str], cwd: Path | None = None) -> tuple[float, int, str]:
    """(seconds, peak RSS MB of the child, stdout) of one process."""
    started = time.perf_counter()
    done = subprocess.run(command, cwd=cwd, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss // 1024
    return elapsed, peak, done.stdout


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


def _median_time(run: Callable[[], float], times: int = 5) -> float:
    return statistics.median(run() for _ in range(times))


def _hook_time(repo: Path) -> tuple[float, float]:
    """(median wall ms of the hook process, median ms it reports for itself)."""
    walls, inner = [], []
    for _ in range(7):
        started = time.perf_counter()
        done = subprocess.run(
            [str(BIN / "gitops-health-phi-scan")],
            cwd=repo,
            capture_output=True,
            text=True,
            check=False,
        )
        walls.append((time.perf_counter() - started) * 1000)
        inner.append(float(done.stderr.rsplit(", ", 1)[-1].split(" ms")[0]))
    return statistics.median(walls), statistics.median(inner)


def _detect_secrets() -> str | None:
    candidate = os.environ.get("DETECT_SECRETS", "/tmp/ds-venv/bin/detect-secrets")
    return candidate if Path(candidate).exists() else None


def main(argv: Sequence[str] | None = None) -> int:
    quick = "--quick" in (sys.argv[1:] if argv is None else argv)
    work = Path(tempfile.mkdtemp(prefix="bench-phi-"))
    out = [
        f"### PHI engine — {date.today()} on {platform.node()} "
        f"({os.cpu_count()} cores, Python {platform.python_version()}, shared machine)",
        "",
    ]

    corpus = generate(seed=2026, copies=2 if quick else 4)
    ours = evaluate(corpus, _ours_predictions(corpus))
    vanilla = evaluate(corpus, _vanilla_predictions(corpus))
    decoys = [f.path for f in corpus if not f.labels]
    ours_predictions = _ours_predictions(corpus)
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
    seconds, peak, stdout = _run(
        [str(BIN / "gitops-health"), "phi", "scan", ".", "--format", "jsonl", "--no-baseline"],
        cwd=clean_tree,
    )
    ours_found = len(stdout.splitlines())
    rows = [
        "| scanner | input | MB | lines | seconds | MB/s | findings | per 100k lines | peak MB |",
        "|---|---|---|---|---|---|---|---|---|",
        f"| ours `phi scan` | real code ({len(REAL_CODE)} packages) | {clean_bytes / 1e6:.1f} | "
        f"{clean_lines} | {seconds:.1f} | {clean_bytes / 1e6 / seconds:.2f} | {ours_found} | "
        f"{ours_found / clean_lines * 1e5:.1f} | {peak} |",
    ]
    dense = work / "dense"
    dense_bytes = 0
    for copy in range(4 if quick else 12):
        for corpus_file in generate(seed=copy, copies=3):
            if corpus_file.data is None:
                target = dense / f"{copy}" / corpus_file.path
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_text(corpus_file.text * 8)
                dense_bytes += len(corpus_file.text) * 8
    seconds, peak, stdout = _run(
        [str(BIN / "gitops-health"), "phi", "scan", ".", "--format", "jsonl", "--no-baseline"],
        cwd=dense,
    )
    rows.append(
        f"| ours `phi scan` | PHI-dense fixtures | {dense_bytes / 1e6:.1f} | - | "
        f"{seconds:.1f} | {dense_bytes / 1e6 / seconds:.2f} | {len(stdout.splitlines())} "
        f"| - | {peak} |"
    )

    sample = real[: 60 if quick else 200]
    sample_bytes, sample_lines = sum(p.stat().st_size for p in sample), _lines(sample)
    started = time.perf_counter()
    analyzer = _vanilla_analyzer()
    vanilla_found = sum(
        len(analyzer.analyze(p.read_text(errors="replace")[:999_000], language="en"))
        for p in sample
    )
    seconds = time.perf_counter() - started
    rows.append(
        f"| vanilla Presidio (in-process) | real code sample | {sample_bytes / 1e6:.1f} | "
        f"{sample_lines} | {seconds:.1f} | {sample_bytes / 1e6 / seconds:.2f} | "
        f"{vanilla_found} | {vanilla_found / sample_lines * 1e5:.0f} | - |"
    )
    detect = _detect_secrets()
    if detect:
        for label, tree, size, lines in (
            ("real code", clean_tree, clean_bytes, clean_lines),
            ("PHI-dense fixtures", dense, dense_bytes, None),
        ):
            seconds, peak, stdout = _run([detect, "scan", "--all-files", "."], cwd=tree)
            found = stdout.count('"hashed_secret"')
            per = f"{found / lines * 1e5:.1f}" if lines else "-"
            rows.append(
                f"| detect-secrets 1.5.0 | {label} | {size / 1e6:.1f} | {lines or '-'} | "
                f"{seconds:.1f} | {size / 1e6 / seconds:.2f} | {found} | {per} | - |"
            )
    out += ["Throughput, noise and memory (one process per run, start-up included):", "", *rows]

    repo = _clean_commit_repo(work, real)
    wall, inner = _hook_time(repo)
    python_only = _median_time(lambda: _run([sys.executable, "-c", "pass"])[0] * 1000)
    out += [
        "",
        f"Clean typical commit (20 files, 1,000 added lines staged): hook process "
        f"**{wall:.0f} ms** wall (median of 7; it reports {inner:.0f} ms after start-up; "
        f"bare `python -c pass` here: {python_only:.0f} ms). Presidio/spaCy are not imported.",
        "",
    ]
    if detect:
        seconds = _median_time(lambda: _run([detect, "scan", "--all-files", "."], cwd=repo)[0])
        out += [f"detect-secrets on the same 20 files: {seconds * 1000:.0f} ms.", ""]
    print("\n".join(out))
    shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
