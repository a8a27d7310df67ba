"""PHI detection: HIPAA Safe Harbor identifiers in what a change adds.

`scan_change` is the engine's entry point (used by `rules.engine` for the bot and the local
simulators); `scan_bytes` / `scan_lines` serve the hook and the CLI. Importing this package
costs nothing: its names load on first use (so the hook's `prefilter` import stays small), and
Presidio and spaCy are imported only when a candidate chunk can hold a finding.
"""

from __future__ import annotations

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing in the hook
if TYPE_CHECKING:
    from gitops_health.rules.phi.scan import (
        fingerprint,
        mask,
        scan_bytes,
        scan_change,
        scan_lines,
        to_finding,
    )

__all__ = ["fingerprint", "mask", "scan_bytes", "scan_change", "scan_lines", "to_finding"]


def __getattr__(name: str) -> object:
    if name in __all__:
        from gitops_health.rules.phi import scan

        return getattr(scan, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
