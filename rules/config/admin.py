"""The server-side admin policy, and what a repository's own file may change in it.

As Atlantis does for repo configs, the bot is started with an admin policy file:

```yaml
policy:                      # the organisation's baseline, any `.gitops-health.yml` keys
  extends: [sox]
  approvals: {rules: [{name: two-reviewers, requires: {count: 2}}]}
allowed_overrides: [commit_msg, phi.exclude, risk.sensitive_paths, approvals]
```

A repository's `.gitops-health.yml` may then set only keys under an entry of
`allowed_overrides` (dotted paths). Two kinds of change are always additive and so always
allowed where noted: `extends` packs are added to the admin's, and approval rules (when
`approvals` is allowed) are added to the admin's rules, which the repository can never
remove or rename over. Locally the hooks use the repository file alone.
"""

from __future__ import annotations

import dataclasses
import typing
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import yaml

from gitops_health.rules.config.approvals import ApprovalsConfig, RuleGroup
from gitops_health.rules.config.policy import POLICY_FILE, Policy
from gitops_health.rules.config.schema import (
    ConfigError,
    ConfigInvalid,
    config_fields,
    json_schema,
    load_section,
    parse_yaml,
    yaml_key,
)

ADDITIVE = ("extends",)  # keys a repository may always set: they only add


def _dataclass_of(tp: Any) -> type | None:
    """The dataclass behind `tp` (also inside `X | None`), else None."""
    options = [a for a in typing.get_args(tp) if a is not type(None)] or [tp]
    found = [o for o in options if isinstance(o, type) and dataclasses.is_dataclass(o)]
    return found[0] if len(found) == 1 else None


def _fields_by_key(cls: type) -> dict[str, tuple[dataclasses.Field[Any], Any]]:
    hints = typing.get_type_hints(cls)
    return {yaml_key(f): (f, hints[f.name]) for f in config_fields(cls)}


def _override_problem(dotted: str) -> str | None:
    cls: type | None = Policy
    for part in dotted.split("."):
        known = _fields_by_key(cls) if cls is not None else {}
        if part not in known:
            choices = ", ".join(sorted(known)) or "none (not a section)"
            return f"{dotted!r} is not a policy key (at {part!r}, known: {choices})"
        cls = _dataclass_of(known[part][1])
    return None


def check_overrides(value: Any) -> str | None:
    problems = [p for p in map(_override_problem, value or ()) if p]
    return "; ".join(problems) or None


@dataclass(frozen=True)
class AdminPolicy:
    """Server-side admin policy: the baseline and which keys repositories may override."""

    policy: Policy = field(default_factory=Policy)
    allowed_overrides: tuple[str, ...] = field(
        default=(),
        metadata={
            "check": check_overrides,
            "doc": "dotted policy keys a repository file may set (a section allows all below)",
        },
    )
    source_text: str = field(default="", compare=False, repr=False, metadata={"internal": True})

    def allows(self, dotted: str) -> bool:
        return any(dotted == a or dotted.startswith(a + ".") for a in self.allowed_overrides)


def parse_admin_policy(text: str, source: str = "admin policy") -> AdminPolicy:
    """Parse the admin policy file; raises ConfigInvalid with every error and its line."""
    admin = load_section(AdminPolicy, text, source)
    return replace(admin, policy=replace(admin.policy, source_text=text), source_text=text)


def load_admin_policy(path: str | Path) -> AdminPolicy:
    path = Path(path)
    return parse_admin_policy(path.read_text(encoding="utf-8"), str(path))


def admin_policy_schema() -> dict[str, object]:
    """JSON Schema (draft 2020-12) of the admin policy file."""
    defs: dict[str, Any] = {}
    root = json_schema(AdminPolicy, defs)
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "https://gitops-health.dev/schema/gitops-health-admin.json",
        "title": "gitops-health admin policy (the bot's --admin-policy file)",
        **root,
        "$defs": defs,
    }


class OverrideNotAllowed(ConfigInvalid):
    """The repository file sets keys the admin policy does not let it change."""


def merge_policies(admin: AdminPolicy, repo: Policy, *, source: str = POLICY_FILE) -> Policy:
    """The policy in force: the admin's, with the repository's allowed overrides applied."""
    node = parse_yaml(repo.source_text, source) if repo.source_text.strip() else None
    if not isinstance(node, yaml.MappingNode):
        return admin.policy
    errors: list[ConfigError] = []
    merged = _merge(admin, admin.policy, repo, node, "", errors)
    if errors:
        raise OverrideNotAllowed(source, errors)
    text = f"{admin.source_text}\n# --- {source} ---\n{repo.source_text}"
    return replace(merged, source_text=text)


def _merge(
    admin: AdminPolicy, base: Any, repo: Any, node: yaml.MappingNode, path: str,
    errors: list[ConfigError],
) -> Any:  # fmt: skip
    changes: dict[str, Any] = {}
    fields = _fields_by_key(type(base))
    for key_node, value_node in node.value:
        spec, tp = fields[key_node.value]  # the repo file was validated: every key exists
        dotted = f"{path}.{key_node.value}" if path else key_node.value
        mine, theirs = getattr(base, spec.name), getattr(repo, spec.name)
        nested = _dataclass_of(tp)
        if dotted in ADDITIVE:
            changes[spec.name] = tuple(dict.fromkeys((*mine, *theirs)))
        elif dotted == "approvals" and admin.allows("approvals.rules"):
            changes[spec.name] = _merge_approvals(admin, mine, theirs, value_node, errors)
        elif admin.allows(dotted):
            changes[spec.name] = {**mine, **theirs} if isinstance(mine, dict) else theirs
        elif nested and mine is not None and isinstance(value_node, yaml.MappingNode):
            changes[spec.name] = _merge(admin, mine, theirs, value_node, dotted, errors)
        else:
            errors.append(_not_allowed(admin, dotted, key_node))
    return replace(base, **changes)


def _not_allowed(admin: AdminPolicy, dotted: str, key_node: yaml.Node) -> ConfigError:
    allowed = ", ".join(admin.allowed_overrides) or "none"
    message = f"not allowed by the admin policy (allowed_overrides: {allowed})"
    return ConfigError(dotted, key_node.start_mark.line + 1, message)


def _merge_approvals(
    admin: AdminPolicy, base: ApprovalsConfig, repo: ApprovalsConfig, node: yaml.Node,
    errors: list[ConfigError],
) -> ApprovalsConfig:  # fmt: skip
    """Admin rules stay in force; the repository's rules are added to them (an `and`)."""
    taken = set(base.rule_names)
    rules_node = _key_nodes(node).get("rules")
    for index, rule in enumerate(repo.rules):
        if rule.name in taken and isinstance(rules_node, yaml.SequenceNode):
            where = f"approvals.rules[{index}].name"
            line = rules_node.value[index].start_mark.line + 1
            message = f"rule {rule.name!r} is defined by the admin policy; use another name"
            errors.append(ConfigError(where, line, message))
    disapproval = base.disapproval
    if repo.disapproval is not None:
        if admin.allows("approvals.disapproval"):
            disapproval = repo.disapproval
        else:
            key_node = _key_nodes(node, keys=True)["disapproval"]
            errors.append(_not_allowed(admin, "approvals.disapproval", key_node))
    if not repo.rules:
        return replace(base, disapproval=disapproval)
    tree = RuleGroup("and", base.tree.entries + repo.tree.entries) if base.rules else repo.policy
    return ApprovalsConfig(policy=tree, rules=base.rules + repo.rules, disapproval=disapproval)


def _key_nodes(node: yaml.Node, *, keys: bool = False) -> dict[str, yaml.Node]:
    """A mapping node's entries by key: the value nodes, or the key nodes themselves."""
    pairs = node.value if isinstance(node, yaml.MappingNode) else []
    return {k.value: (k if keys else v) for k, v in pairs}
