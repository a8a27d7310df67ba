"""Forge adapters, built on demand so a process only imports the client libraries it uses.

Every adapter class offers `from_settings(settings, store)` and implements `base.Forge`.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

from gitops_health.bot.forges.base import Forge

if TYPE_CHECKING:
    from gitops_health.bot.settings import Settings
    from gitops_health.bot.store import Store

ADAPTERS: dict[str, tuple[str, str]] = {
    "github": ("gitops_health.bot.forges.github", "GitHubForge"),
    "bitbucket-cloud": ("gitops_health.bot.forges.bitbucket_cloud", "BitbucketCloudForge"),
    "bitbucket-server": ("gitops_health.bot.forges.bitbucket_server", "BitbucketServerForge"),
}


class ForgeNotConfigured(RuntimeError):
    pass


def make_forge(name: str, settings: Settings, store: Store) -> Forge:
    if name not in ADAPTERS:
        raise ForgeNotConfigured(f"unknown forge {name!r}")
    if not settings.configured(name):
        raise ForgeNotConfigured(f"forge {name} is not configured on this server")
    module_name, class_name = ADAPTERS[name]
    adapter = getattr(importlib.import_module(module_name), class_name)
    return adapter.from_settings(settings, store)
