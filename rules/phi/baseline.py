"""The PHI baseline: accepted findings stored as salted hashes, never as values.

Entries are keyed by `fingerprint(path, type, value, salt)`, so moving a line keeps its entry;
`line` is informational and refreshed by `update`. The salt is random per baseline.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from gitops_health.rules.report import Finding

VERSION = 1
AUDIT_LABELS = ("unreviewed", "true-positive", "false-positive")


class BaselineError(ValueError):
    """The baseline file cannot be used; the message says what to fix."""


@dataclass
class Baseline:
    salt: str = field(default_factory=lambda: secrets.token_hex(16))
    entries: dict[str, dict[str, object]] = field(default_factory=dict)

    def merge(self, findings: Iterable[Finding], *, keep_missing: bool = False) -> Baseline:
        """A baseline of `findings`, keeping audit labels of entries already known."""
        entries = dict(self.entries) if keep_missing else {}
        for finding in findings:
            previous = self.entries.get(finding.fingerprint, {})
            entries[finding.fingerprint] = {
                "path": finding.path,
                "line": finding.line,
                "entity_type": finding.entity_type,
                "recognizer": finding.rule,
                "audit": previous.get("audit", "unreviewed"),
            }
        return Baseline(self.salt, entries)

    def to_json(self) -> str:
        data = {
            "version": VERSION,
            "generated_by": "gitops-health phi baseline",
            "salt": self.salt,
            "entries": [{"fingerprint": fp, **entry} for fp, entry in sorted(
                self.entries.items(), key=lambda item: (str(item[1]["path"]), item[1]["line"]))],
        }  # fmt: skip
        return json.dumps(data, indent=2) + "\n"


def parse_baseline(text: str, source: str) -> Baseline:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise BaselineError(f"{source}: not valid JSON (line {exc.lineno}): {exc.msg}") from exc
    if not isinstance(data, dict) or data.get("version") != VERSION or "salt" not in data:
        raise BaselineError(
            f"{source}: not a gitops-health PHI baseline (version {VERSION} with a salt); "
            "recreate it with `gitops-health phi baseline create`"
        )
    entries: dict[str, dict[str, object]] = {}
    for index, entry in enumerate(data.get("entries", [])):
        if not isinstance(entry, dict) or not isinstance(entry.get("fingerprint"), str):
            raise BaselineError(f"{source}: entries[{index}] has no fingerprint")
        if entry.get("audit", "unreviewed") not in AUDIT_LABELS:
            raise BaselineError(
                f"{source}: entries[{index}].audit must be one of {', '.join(AUDIT_LABELS)}"
            )
        body = {k: v for k, v in entry.items() if k != "fingerprint"}
        entries[entry["fingerprint"]] = body
    return Baseline(str(data["salt"]), entries)


def load_baseline(path: Path) -> Baseline | None:
    if not path.is_file():
        return None
    return parse_baseline(path.read_text(encoding="utf-8"), str(path))
