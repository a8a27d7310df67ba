"""The `approvals:` section: validation with lines, the and/or tree, JSON Schema, globs."""

from __future__ import annotations

import jsonschema
import pytest
import yaml

from gitops_health.rules.codeowners import parse_codeowners
from gitops_health.rules.config.approvals import MAX_DEPTH, RuleGroup
from gitops_health.rules.config.policy import parse_policy, policy_schema
from gitops_health.rules.config.schema import ConfigInvalid
from gitops_health.rules.globs import matches

FULL = """\
approvals:
  policy:
    - baseline
    - or:
        - security
        - and: [baseline, owners]
  rules:
    - name: baseline
      requires: {count: 1}
    - name: security
      description: Security review of infrastructure
      if:
        changed_files: {paths: ["infra/**"], ignore: ["infra/docs/**"]}
        modified_lines: {total: "> 10"}
        risk_level: high
        compliance_failing: {frameworks: [hipaa]}
        has_phi: true
      requires: {count: 2, teams: [acme/security], permission: maintain}
      options:
        invalidate_on_push: false
        request_review: {mode: teams}
    - name: owners
      requires: {count: 0, codeowners: each}
  disapproval:
    requires: {teams: [acme/security]}
"""


def errors_of(text: str) -> list[tuple[int, str, str]]:
    with pytest.raises(ConfigInvalid) as caught:
        parse_policy(text)
    return [(e.line, e.path, e.message) for e in caught.value.errors]


def test_full_example_parses_into_the_tree() -> None:
    approvals = parse_policy(FULL).approvals
    assert approvals.tree == RuleGroup(
        "and", ("baseline", RuleGroup("or", ("security", RuleGroup("and", ("baseline", "owners")))))
    )
    security = approvals.rules[1]
    assert security.if_.changed_files is not None
    assert security.if_.changed_files.ignore == ("infra/docs/**",)
    assert security.requires.permission == "maintain"
    assert security.options.invalidate_on_push is False
    assert approvals.disapproval is not None


def test_without_policy_every_rule_is_required() -> None:
    approvals = parse_policy("approvals:\n  rules: [{name: a}, {name: b}]\n").approvals
    assert approvals.tree == RuleGroup("and", ("a", "b"))


def test_errors_name_the_yaml_path_and_line() -> None:
    text = """\
approvals:
  policy: [a, {or: [b, nope]}, {xor: [a]}]
  rules:
    - name: a
      requires: {count: -1, permission: superuser}
      if:
        modified_lines: {additions: "lots"}
        targets_branch: "("
        risk_level: extreme
        surprise: true
    - name: a
    - description: nameless
"""
    found = errors_of(text)
    assert (5, "approvals.rules[0].requires.count", "must be 0 or more") in found
    paths = {path: line for line, path, _ in found}
    assert paths["approvals.rules[0].requires.permission"] == 5
    assert paths["approvals.rules[0].if.modified_lines.additions"] == 7
    assert paths["approvals.rules[0].if.targets_branch"] == 8
    assert paths["approvals.rules[0].if.risk_level"] == 9
    assert paths["approvals.rules[0].if.surprise"] == 10
    assert paths["approvals.rules[1].name"] == 11  # duplicate
    assert paths["approvals.rules[2]"] == 12  # missing name
    assert paths["approvals.policy[1].or[1]"] == 2  # unknown rule nope
    assert paths["approvals.policy[2]"] == 2  # xor is not a group
    messages = " ".join(m for _, _, m in found)
    assert "unknown rule 'nope'" in messages
    assert "missing required key 'name'" in messages


def test_nesting_deeper_than_the_limit_is_refused() -> None:
    tree = "a"
    for _ in range(MAX_DEPTH):
        tree = f"{{or: [{tree}]}}"
    text = f"approvals:\n  policy: [{tree}]\n  rules: [{{name: a}}]\n"
    assert "nest deeper" in errors_of(text)[0][2]
    shallower = tree.replace("{or: [", "", 1).replace("]}", "", 1)
    parse_policy(f"approvals:\n  policy: [{shallower}]\n  rules: [{{name: a}}]\n")


def test_policy_must_be_a_list() -> None:
    found = errors_of("approvals:\n  policy: a\n  rules: [{name: a}]\n")
    assert found[0][:2] == (2, "approvals.policy")


def test_json_schema_is_valid_and_agrees_with_the_loader() -> None:
    schema = policy_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    validator = jsonschema.Draft202012Validator(schema)
    assert list(validator.iter_errors(yaml.safe_load(FULL))) == []
    bad = yaml.safe_load("approvals:\n  policy: [{xor: [a]}]\n  rules: [{description: x}]\n")
    problems = {e.validator for e in validator.iter_errors(bad)}
    assert problems >= {"anyOf", "required"}


@pytest.mark.parametrize(
    ("path", "patterns", "expected"),
    [
        ("infra/main.tf", ["infra/**"], True),
        ("app/infra/main.tf", ["infra/**"], False),
        ("app/infra/main.tf", ["**/infra/**"], True),
        ("deep/dir/notes.md", ["*.md"], True),
        ("docs/a.md", ["docs/*"], True),
        ("docs/sub/a.md", ["docs/*"], False),
        ("docs/sub/a.md", ["docs"], True),
        ("x/docs/sub/a.md", ["docs/"], True),
        ("x/docs/sub/a.md", ["/docs/"], False),
        ("src/a1.py", ["src/a?.py"], True),
        ("src/ab.py", ["src/a[0-9].py"], False),
    ],
)
def test_globs_follow_gitignore_rules(path: str, patterns: list[str], expected: bool) -> None:
    assert matches(path, patterns) is expected


def test_codeowners_last_matching_line_wins() -> None:
    owners = parse_codeowners(
        "# owners\n* @acme/everyone\n*.py @py-lead dev@example.com  # python\n"
        "/infra/ @acme/infra\n[Section]\n/infra/docs/\n"
    )
    assert owners.owners_of("README.md") == ("acme/everyone",)
    assert owners.owners_of("src/app.py") == ("py-lead", "dev@example.com")
    assert owners.owners_of("infra/main.tf") == ("acme/infra",)
    assert owners.owners_of("infra/docs/x.md") == ()
    assert parse_codeowners(None).owners_of("a") == ()


def _readme_yaml_blocks() -> list[str]:
    from approvals_support import ROOT

    text = (ROOT / "README.md").read_text()
    section = text.split("<!-- section:approvals -->", 1)[1].split("<!-- section:", 1)[0]
    return [block.split("```", 1)[0] for block in section.split("```yaml\n")[1:]]


def test_readme_examples_are_valid() -> None:
    from gitops_health.rules.config.admin import parse_admin_policy

    policy_example, admin_example = _readme_yaml_blocks()
    approvals = parse_policy(policy_example).approvals
    assert len(approvals.rules) == 6
    admin = parse_admin_policy(admin_example)
    assert admin.allows("approvals.rules") and not admin.allows("signing.required")


def test_compliance_selectors_must_name_real_packs_and_controls() -> None:
    text = (
        "approvals:\n  rules:\n    - name: r\n      if:\n"
        "        compliance_failing: {frameworks: [soxx], controls: [sox.tickets]}\n"
    )
    found = {path: message for _, path, message in errors_of(text)}
    assert (
        "unknown compliance pack(s) soxx"
        in found["approvals.rules[0].if.compliance_failing.frameworks"]
    )
    assert (
        "unknown control(s) sox.tickets"
        in found["approvals.rules[0].if.compliance_failing.controls"]
    )
