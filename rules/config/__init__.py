"""Typed policy configuration (`.gitops-health.yml`)."""

POLICY_FILE = ".gitops-health.yml"
