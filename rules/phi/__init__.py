"""PHI detection: HIPAA Safe Harbor identifiers in what a change adds.

`scan_change` is the engine's entry point (used by `rules.engine` for the bot and the local
simulators); `scan_bytes` / `scan_lines` serve the hook and the CLI. Importing this package
is cheap: Presidio and spaCy are imported only when a candidate line is found.
"""

from gitops_health.rules.phi.scan import (
    fingerprint,
    mask,
    scan_bytes,
    scan_change,
    scan_lines,
    to_finding,
)

__all__ = ["fingerprint", "mask", "scan_bytes", "scan_change", "scan_lines", "to_finding"]
