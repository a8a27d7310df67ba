"""Server-side admin policy: allowed_overrides, additive keys, errors with lines."""

from __future__ import annotations

import pytest

from gitops_health.rules.config.admin import (
    OverrideNotAllowed,
    merge_policies,
    parse_admin_policy,
)
from gitops_health.rules.config.approvals import RuleGroup
from gitops_health.rules.config.policy import parse_policy
from gitops_health.rules.config.schema import ConfigInvalid

ADMIN = """\
policy:
  extends: [sox]
  signing: {required: true}
  phi: {exclude: ["fixtures/**"]}
  approvals:
    rules:
      - name: baseline
        requires: {count: 1}
    disapproval:
      requires: {teams: [acme/security]}
allowed_overrides:
  - phi.exclude
  - risk.thresholds
  - commit_msg
  - approvals.rules
"""


def merged(repo_yaml: str):  # type: ignore[no-untyped-def]
    return merge_policies(parse_admin_policy(ADMIN), parse_policy(repo_yaml))


def test_allowed_overrides_apply_and_the_rest_stays_the_admins() -> None:
    policy = merged(
        "phi: {exclude: ['docs/**']}\nrisk: {thresholds: {high: 50}}\n"
        "commit_msg: {scopes: [api, ui], scope_required: true}\n"
    )
    assert policy.phi.exclude == ("docs/**",)
    assert policy.phi.enabled is True
    assert policy.risk.thresholds.high == 50
    assert policy.risk.thresholds.critical == 85
    assert policy.commit_msg.scopes == ("api", "ui")
    assert policy.signing.required is True
    assert policy.extends == ("sox",)


def test_extends_only_adds_packs() -> None:
    assert merged("extends: [hipaa, sox]\n").extends == ("sox", "hipaa")


def test_repository_rules_are_added_to_the_admins() -> None:
    policy = merged("approvals:\n  rules: [{name: security, requires: {teams: [acme/sec]}}]\n")
    assert policy.approvals.rule_names == ("baseline", "security")
    assert policy.approvals.tree == RuleGroup("and", ("baseline", "security"))
    assert policy.approvals.disapproval is not None  # still the admin's


def test_disallowed_overrides_are_errors_with_lines() -> None:
    repo = """\
phi:
  enabled: false
signing:
  required: false
approvals:
  rules:
    - name: baseline
      requires: {count: 0}
  disapproval:
    requires: {users: [nobody]}
"""
    with pytest.raises(OverrideNotAllowed) as caught:
        merged(repo)
    found = {(e.line, e.path) for e in caught.value.errors}
    assert found == {
        (2, "phi.enabled"),
        (4, "signing.required"),
        (7, "approvals.rules[0].name"),
        (9, "approvals.disapproval"),
    }
    text = str(caught.value)
    assert "not allowed by the admin policy (allowed_overrides: phi.exclude" in text
    assert "rule 'baseline' is defined by the admin policy" in text


def test_a_section_entry_allows_everything_below_it() -> None:
    admin = parse_admin_policy("allowed_overrides: [phi, approvals]\n")
    policy = merge_policies(
        admin,
        parse_policy(
            "phi: {enabled: false}\napprovals:\n  rules: [{name: a}]\n"
            "  disapproval: {requires: {users: [x]}}\n"
        ),
    )
    assert policy.phi.enabled is False
    assert policy.approvals.rule_names == ("a",)
    assert policy.approvals.disapproval is not None


def test_no_repository_file_means_the_admin_policy() -> None:
    admin = parse_admin_policy(ADMIN)
    assert merge_policies(admin, parse_policy("")) == admin.policy


def test_merged_digest_covers_both_files() -> None:
    one, two = merged("phi: {exclude: [a]}\n"), merged("phi: {exclude: [b]}\n")
    assert one.digest != two.digest


def test_admin_policy_validation() -> None:
    with pytest.raises(ConfigInvalid) as caught:
        parse_admin_policy(
            "policy:\n  signing: {required: maybe}\n"
            "allowed_overrides: [phi.nope, signing.required.x]\n"
        )
    text = str(caught.value)
    assert "policy.signing.required" in text
    assert "'phi.nope' is not a policy key" in text
    assert "'signing.required.x' is not a policy key" in text


def test_admin_policy_schema_is_valid() -> None:
    import jsonschema
    import yaml

    from gitops_health.rules.config.admin import admin_policy_schema

    schema = admin_policy_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    assert list(jsonschema.Draft202012Validator(schema).iter_errors(yaml.safe_load(ADMIN))) == []
