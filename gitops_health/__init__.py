"""gitops-health: compliance guard-rails for git hooks and pull requests."""

__version__ = "0.1.0"
