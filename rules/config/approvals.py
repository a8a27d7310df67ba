"""`approvals:` section: policy-bot style approval rules, and/or policy, disapproval.

```yaml
approvals:
  policy: [baseline, {or: [security, two-maintainers]}]   # all listed must pass
  rules:
    - name: security
      if: {changed_files: {paths: ["infra/**"]}, risk_level: high}
      requires: {count: 1, teams: [acme/security]}
      options: {invalidate_on_push: true}
  disapproval:
    requires: {teams: [acme/security]}
```
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Literal, NamedTuple

import yaml

from gitops_health.rules.config.compliance import check_control_keys, check_pack_names
from gitops_health.rules.config.schema import ConfigError, check_regex

Permission = Literal["admin", "maintain", "write", "triage", "read"]
RiskLevel = Literal["low", "medium", "high", "critical"]
MAX_DEPTH = 5  # and/or nesting, as policy-bot allows

_COMPARISON = re.compile(r"^\s*(<=|>=|<|>|=)\s*(\d+)\s*$")


def check_comparison(value: Any) -> str | None:
    if value is not None and not _COMPARISON.match(value):
        return f"expected a comparison such as '> 100' or '<= 10', got {value!r}"
    return None


def parse_comparison(text: str) -> tuple[str, int]:
    match = _COMPARISON.match(text)
    assert match is not None  # validated when the policy was loaded
    return match.group(1), int(match.group(2))


def check_count(value: Any) -> str | None:
    return "must be 0 or more" if value < 0 else None


@dataclass(frozen=True)
class FilePatterns:
    """Changed paths, as gitignore-style globs (`infra/**`, `*.tf`)."""

    paths: tuple[str, ...] = field(default=(), metadata={"doc": "globs a path must match"})
    ignore: tuple[str, ...] = field(default=(), metadata={"doc": "globs of paths left out"})


@dataclass(frozen=True)
class Actors:
    """People: forge logins and teams (`org/team` on GitHub)."""

    users: tuple[str, ...] = ()
    teams: tuple[str, ...] = ()


@dataclass(frozen=True)
class ModifiedLines:
    """Change size: each given comparison must hold, e.g. `additions: "> 100"`."""

    additions: str | None = field(default=None, metadata={"check": check_comparison})
    deletions: str | None = field(default=None, metadata={"check": check_comparison})
    total: str | None = field(default=None, metadata={"check": check_comparison})


@dataclass(frozen=True)
class TitlePatterns:
    """PR title regexes: any of `matches` must match, none of `not_matches` may."""

    matches: tuple[str, ...] = field(default=(), metadata={"check": check_regex})
    not_matches: tuple[str, ...] = field(default=(), metadata={"check": check_regex})


@dataclass(frozen=True)
class ControlSelector:
    """Compliance controls, by pack (`sox`) and/or control (`sox.ticket`)."""

    frameworks: tuple[str, ...] = field(
        default=(), metadata={"check": check_pack_names, "doc": "packs; empty = any pack"}
    )
    controls: tuple[str, ...] = field(
        default=(),
        metadata={"check": check_control_keys, "doc": "<pack>.<id> (sox.ticket); empty = any"},
    )


@dataclass(frozen=True)
class Predicates:
    """Conditions under which a rule applies; every condition given must hold."""

    changed_files: FilePatterns | None = field(
        default=None, metadata={"doc": "some changed file matches paths (and not ignore)"}
    )
    no_changed_files: FilePatterns | None = field(
        default=None, metadata={"doc": "no changed file matches paths (and not ignore)"}
    )
    only_changed_files: FilePatterns | None = field(
        default=None, metadata={"doc": "every changed file matches paths"}
    )
    has_author_in: Actors | None = field(default=None, metadata={"doc": "the author is listed"})
    has_contributor_in: Actors | None = field(
        default=None, metadata={"doc": "the author or a commit author/committer is listed"}
    )
    only_has_contributors_in: Actors | None = field(
        default=None, metadata={"doc": "the author and every commit author/committer are listed"}
    )
    author_is_only_contributor: bool | None = field(
        default=None, metadata={"doc": "true: only the author wrote and committed the commits"}
    )
    targets_branch: str | None = field(
        default=None, metadata={"check": check_regex, "doc": "regex on the target branch"}
    )
    from_branch: str | None = field(
        default=None, metadata={"check": check_regex, "doc": "regex on the source branch"}
    )
    modified_lines: ModifiedLines | None = None
    has_labels: tuple[str, ...] = field(default=(), metadata={"doc": "all of these labels"})
    title: TitlePatterns | None = None
    has_valid_signatures: bool | None = field(
        default=None, metadata={"doc": "true: every commit has a valid signature"}
    )
    has_valid_signatures_by: Actors | None = field(
        default=None, metadata={"doc": "every commit is validly signed by one of these"}
    )
    has_valid_signatures_by_keys: tuple[str, ...] = field(
        default=(), metadata={"doc": "every commit is validly signed by one of these key ids"}
    )
    has_successful_status: tuple[str, ...] = field(
        default=(), metadata={"doc": "these CI checks/statuses succeeded on the head"}
    )
    risk_level: RiskLevel | None = field(
        default=None, metadata={"doc": "the risk level is at least this"}
    )
    compliance_failing: ControlSelector | None = field(
        default=None, metadata={"doc": "one of these compliance controls fails"}
    )
    has_phi: bool | None = field(
        default=None, metadata={"doc": "true: PHI was found in added lines; false: none was"}
    )


@dataclass(frozen=True)
class Requirements:
    """Who must approve. With no users, teams, permission or codeowners, anyone with write
    permission counts."""

    count: int = field(default=1, metadata={"check": check_count, "doc": "approvals needed"})
    users: tuple[str, ...] = ()
    teams: tuple[str, ...] = ()
    permission: Permission | None = field(
        default=None, metadata={"doc": "people with at least this repository permission"}
    )
    codeowners: Literal["none", "any", "each"] = field(
        default="none",
        metadata={
            "doc": "any: owners of the touched files count as approvers; each: in addition, "
            "every touched file that has owners needs one of its owners' approval"
        },
    )


@dataclass(frozen=True)
class RequestReview:
    """Which reviewers to ask while the rule is pending (never on drafts, never anyone who
    already reviewed)."""

    enabled: bool = True
    mode: Literal["all-users", "random-users", "teams"] = "random-users"
    count: int = field(
        default=0, metadata={"check": check_count, "doc": "0 = as many as approvals missing"}
    )


@dataclass(frozen=True)
class RuleOptions:
    allow_author: bool = field(default=False, metadata={"doc": "the author's approval counts"})
    allow_contributor: bool = field(
        default=False, metadata={"doc": "approvals of commit authors/committers count"}
    )
    invalidate_on_push: bool = field(
        default=True, metadata={"doc": "only approvals given on the current head count"}
    )
    request_review: RequestReview = field(default_factory=RequestReview)


@dataclass(frozen=True)
class ApprovalRule:
    """One approval rule: when it applies (`if`) and what it needs (`requires`)."""

    name: str = field(default="", metadata={"required": True})
    description: str = ""
    if_: Predicates = field(default_factory=Predicates, metadata={"key": "if"})
    requires: Requirements = field(default_factory=Requirements)
    options: RuleOptions = field(default_factory=RuleOptions)


@dataclass(frozen=True)
class Disapprovers:
    """Whose request for changes blocks the change."""

    users: tuple[str, ...] = ()
    teams: tuple[str, ...] = ()
    permission: Permission | None = None


@dataclass(frozen=True)
class DisapprovalRule:
    """Blocks the change while one of `requires` has requested changes (off without it)."""

    if_: Predicates = field(default_factory=Predicates, metadata={"key": "if"})
    requires: Disapprovers = field(default_factory=Disapprovers)


class RuleGroup(NamedTuple):
    """An `and`/`or` of rule names and nested groups; `approvals.policy` is an `and`."""

    op: Literal["and", "or"]
    entries: tuple[str | RuleGroup, ...]

    @classmethod
    def __config_parse__(cls, node: yaml.Node, path: str, errors: list[ConfigError]) -> RuleGroup:
        return _parse_group("and", node, path, errors, depth=1)

    @classmethod
    def __config_schema__(cls, defs: dict[str, Any]) -> dict[str, Any]:
        entry = {"$ref": "#/$defs/ApprovalPolicyEntry"}
        defs["ApprovalPolicy"] = {
            "type": "array",
            "items": entry,
            "description": "rule names and and/or groups; all entries must pass",
        }
        group = {"$ref": "#/$defs/ApprovalPolicy"}
        defs["ApprovalPolicyEntry"] = {
            "anyOf": [
                {"type": "string", "minLength": 1},
                *(
                    {
                        "type": "object",
                        "properties": {op: group},
                        "required": [op],
                        "additionalProperties": False,
                    }
                    for op in ("and", "or")
                ),
            ]
        }
        return group


def _parse_group(
    op: Literal["and", "or"], node: yaml.Node, path: str, errors: list[ConfigError], depth: int
) -> RuleGroup:
    line = node.start_mark.line + 1
    if not isinstance(node, yaml.SequenceNode):
        errors.append(ConfigError(path, line, "expected a list of rule names and and/or groups"))
        return RuleGroup(op, ())
    if depth > MAX_DEPTH:
        errors.append(ConfigError(path, line, f"and/or groups nest deeper than {MAX_DEPTH}"))
        return RuleGroup(op, ())
    entries = []
    for index, item in enumerate(node.value):
        entry = _parse_entry(item, f"{path}[{index}]", errors, depth)
        if entry is not None:
            entries.append(entry)
    return RuleGroup(op, tuple(entries))


def _parse_entry(
    node: yaml.Node, path: str, errors: list[ConfigError], depth: int
) -> str | RuleGroup | None:
    line = node.start_mark.line + 1
    if isinstance(node, yaml.ScalarNode) and node.value.strip():
        return node.value
    if isinstance(node, yaml.MappingNode) and len(node.value) == 1:
        key, value = node.value[0]
        if key.value in ("and", "or"):
            return _parse_group(key.value, value, f"{path}.{key.value}", errors, depth + 1)
    errors.append(ConfigError(path, line, "expected a rule name or {and: [...]} / {or: [...]}"))
    return None


def _value_node(node: yaml.Node, key: str) -> yaml.Node | None:
    if isinstance(node, yaml.MappingNode):
        for key_node, value in node.value:
            if key_node.value == key:
                return value
    return None


def _referenced_names(node: yaml.Node | None, path: str) -> list[tuple[str, str, int]]:
    """(name, path, line) of every rule name in a policy tree node."""
    if isinstance(node, yaml.ScalarNode):
        return [(node.value, path, node.start_mark.line + 1)]
    if isinstance(node, yaml.SequenceNode):
        found = []
        for index, item in enumerate(node.value):
            found += _referenced_names(item, f"{path}[{index}]")
        return found
    if isinstance(node, yaml.MappingNode):
        return [r for k, v in node.value for r in _referenced_names(v, f"{path}.{k.value}")]
    return []


@dataclass(frozen=True)
class ApprovalsConfig:
    """Required approvals: rules, how they combine (`policy`), and disapproval."""

    policy: RuleGroup = field(
        default=RuleGroup("and", ()),
        metadata={"doc": "rule names and and/or groups, all must pass; empty = all rules"},
    )
    rules: tuple[ApprovalRule, ...] = ()
    disapproval: DisapprovalRule | None = None

    def __config_validate__(self, node: yaml.Node, path: str, errors: list[ConfigError]) -> None:
        prefix = f"{path}." if path else ""
        rules_node = _value_node(node, "rules")
        items = rules_node.value if isinstance(rules_node, yaml.SequenceNode) else []
        seen: set[str] = set()
        for index, item in enumerate(items):
            name_node = _value_node(item, "name")
            if not isinstance(name_node, yaml.ScalarNode):
                continue
            if name_node.value in seen:
                where, line = f"{prefix}rules[{index}].name", name_node.start_mark.line + 1
                errors.append(ConfigError(where, line, f"duplicate rule name {name_node.value!r}"))
            seen.add(name_node.value)
        policy_node = _value_node(node, "policy")
        for name, where, line in _referenced_names(policy_node, f"{prefix}policy"):
            if name not in seen:
                known = ", ".join(sorted(seen)) or "none defined"
                errors.append(ConfigError(where, line, f"unknown rule {name!r} (rules: {known})"))

    @property
    def tree(self) -> RuleGroup:
        """The policy to evaluate: `policy`, or every rule when it is empty."""
        return self.policy if self.policy.entries else RuleGroup("and", self.rule_names)

    @property
    def rule_names(self) -> tuple[str, ...]:
        return tuple(r.name for r in self.rules)
