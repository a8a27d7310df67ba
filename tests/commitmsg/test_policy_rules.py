"""Every configurable rule of the `commit_msg:` policy section, and the engine's findings."""

from __future__ import annotations

import pytest

from gitops_health.rules.change import Change, Commit
from gitops_health.rules.commitmsg import (
    commit_findings,
    corrected_header,
    lint_message,
    lint_title,
)
from gitops_health.rules.config.commit_msg import CommitMsgConfig, TicketRule
from gitops_health.rules.config.policy import parse_policy


def rules(message: str, **settings: object) -> list[str]:
    return [p.rule for p in lint_message(message, CommitMsgConfig(**settings))]  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("message", "expected"),
    [
        ("wip: x", []),
        ("feat: x", []),
        ("fix: x", ["type-enum"]),
        ("WIP: x", ["type-case"]),
    ],
)
def test_custom_types(message: str, expected: list[str]) -> None:
    assert rules(message, types=("feat", "wip")) == expected


def test_empty_types_allow_any_type_but_keep_the_case_rule() -> None:
    assert rules("anything: x", types=()) == []
    assert rules("my-type: x", types=()) == []
    assert rules("Anything: x", types=()) == ["type-case"]


def test_upper_case_custom_type_is_matched_exactly() -> None:
    assert rules("JIRA: x", types=("JIRA",)) == []


@pytest.mark.parametrize("message", ["FEAT: x", "Feat: x", "fEaT(api)!: x"])
def test_type_case_any_follows_the_spec(message: str) -> None:
    assert rules(message, type_case="any") == []
    assert rules(message) == ["type-case"]


@pytest.mark.parametrize(
    ("message", "expected"),
    [
        ("feat(api): x", []),
        ("feat(ui): x", []),
        ("feat: x", []),
        ("feat(db): x", ["scope-enum"]),
        ("feat(API): x", ["scope-enum"]),
        ("feat(api,ui): x", ["scope-enum"]),
        ("feat(api/ui): x", ["scope-enum"]),
    ],
)
def test_scope_allow_list(message: str, expected: list[str]) -> None:
    assert rules(message, scopes=("api", "ui")) == expected


@pytest.mark.parametrize(
    ("message", "expected"),
    [
        ("feat(api,ui): x", []),
        ("feat(api, ui): x", []),
        ("feat(api/ui): x", []),
        ("feat(api,db): x", ["scope-enum"]),
        ("feat(api,): x", ["scope-enum"]),
    ],
)
def test_multiple_scopes(message: str, expected: list[str]) -> None:
    assert rules(message, scopes=("api", "ui"), multiple_scopes=True) == expected


def test_scope_enum_message_explains_single_scope_and_suggests_the_closest() -> None:
    (problem,) = lint_message("feat(apii,ui): x", CommitMsgConfig(scopes=("api", "ui")))
    assert "one scope only" in problem.message
    (problem,) = lint_message("feat(apii): x", CommitMsgConfig(scopes=("api", "ui")))
    assert problem.example == "feat(api): x"


@pytest.mark.parametrize(
    ("message", "expected"),
    [("feat(api): x", []), ("feat: x", ["scope-empty"]), ("feat(): x", ["scope-format"])],
)
def test_scope_required(message: str, expected: list[str]) -> None:
    assert rules(message, scope_required=True) == expected


def test_scope_required_example_uses_the_first_allowed_scope() -> None:
    (problem,) = lint_message("feat: x", CommitMsgConfig(scope_required=True, scopes=("core",)))
    assert problem.example == "feat(core): x"


@pytest.mark.parametrize(
    ("limit", "length", "expected"),
    [(72, 72, []), (72, 73, ["header-max-length"]), (0, 500, []), (100, 100, [])],
)
def test_header_max_length(limit: int, length: int, expected: list[str]) -> None:
    header = "fix: " + "x" * (length - 5)
    assert rules(header, header_max_length=limit) == expected


def test_header_max_length_points_past_the_limit() -> None:
    (problem,) = lint_message("fix: " + "word " * 30, CommitMsgConfig(header_max_length=50))
    assert problem.column == 51 and len(problem.example) <= 50


@pytest.mark.parametrize("message", ["feat: Add x", "feat: ADD ALL THE THINGS", "feat: Éclair"])
def test_subject_case_any(message: str) -> None:
    assert rules(message, subject_case="any") == []


def test_subject_full_stop_allowed() -> None:
    assert rules("feat: add x.", subject_full_stop=True) == []


@pytest.mark.parametrize(
    ("message", "expected"),
    [
        ("fix: x\n\n" + "a" * 72, []),
        ("fix: x\n\n" + "a" * 73, ["body-max-line-length"]),
        ("fix: x\n\nsee https://example.com/" + "a" * 100, []),
        ("fix: x\n\n" + "b " * 30 + "https://example.com/" + "a" * 100, []),
        ("fix: x\n\nshort\n\nRefs: " + "a" * 100, []),
    ],
)
def test_body_max_line_length(message: str, expected: list[str]) -> None:
    assert rules(message, body_max_line_length=72) == expected


@pytest.mark.parametrize(
    ("message", "expected"),
    [
        ("fix: x\n\nRefs: " + "a" * 60, []),
        ("fix: x\n\nRefs: " + "a" * 70, ["footer-max-line-length"]),
        ("fix: x\n\nRefs: https://example.com/" + "a" * 100, []),
        ("fix: x\n\n" + "a" * 100, []),
    ],
)
def test_footer_max_line_length(message: str, expected: list[str]) -> None:
    assert rules(message, footer_max_line_length=72) == expected


def test_long_line_problem_points_at_its_line() -> None:
    (problem,) = lint_message(
        "fix: x\n\nok\n" + "a " * 50, CommitMsgConfig(body_max_line_length=20)
    )
    assert (problem.line, problem.column) == (4, 21)


def test_body_leading_blank_can_be_switched_off() -> None:
    assert rules("fix: x\nbody", body_leading_blank=False) == []


@pytest.mark.parametrize(
    ("message", "expected"),
    [
        ("fix: x\n\nSigned-off-by: A <a@example.com>", []),
        ("fix: x\n\nbody\n\nsigned-off-by: A <a@example.com>", []),
        ("fix: x\n\nRefs: #1\nSigned-off-by: A <a@example.com>", []),
        ("fix: x", ["trailer-required"]),
        ("fix: x\n\nSigned-off-by:A", ["trailer-required"]),
        ("fix: x\n\nSigned off by: A", ["trailer-required"]),
        ("fix: x\n\nbody mentions Signed-off-by: A inline", ["trailer-required"]),
    ],
)
def test_required_trailers(message: str, expected: list[str]) -> None:
    assert rules(message, required_trailers=("Signed-off-by",)) == expected


def test_missing_sign_off_says_how_to_add_it() -> None:
    config = CommitMsgConfig(required_trailers=("Signed-off-by", "Reviewed-by"))
    problems = lint_message("fix: x", config)
    assert [p.rule for p in problems] == ["trailer-required", "trailer-required"]
    assert "git commit -s" in problems[0].message
    assert problems[1].example.startswith("Reviewed-by: ")


TICKET = TicketRule()


@pytest.mark.parametrize(
    ("message", "ticket", "expected"),
    [
        ("fix: x (ABC-123)", TICKET, []),
        ("fix(ABC-1): x", TICKET, []),
        ("fix: x\n\nRefs: ABC-123", TICKET, []),
        ("fix: x", TICKET, ["ticket-required"]),
        ("fix: x abc-123", TICKET, ["ticket-required"]),
        ("fix: x\n\nRefs: ABC-123", TicketRule(where="header"), ["ticket-required"]),
        ("fix: x ABC-123", TicketRule(where="footer"), ["ticket-required"]),
        ("fix: x\n\nRefs: ABC-123", TicketRule(where="footer"), []),
        ("fix: x\n\nABC-123 explains", TicketRule(where="body"), []),
        ("fix: x\n\nRefs: ABC-123", TicketRule(where="body"), ["ticket-required"]),
        ("fix: x", TicketRule(pattern=r"#\d+"), ["ticket-required"]),
        ("fix: x\n\nCloses #12", TicketRule(pattern=r"#\d+"), []),
        ("docs: x", TicketRule(types=("feat", "fix")), []),
        ("fix: x", TicketRule(types=("feat", "fix")), ["ticket-required"]),
        ("Fix: x", TicketRule(types=("fix",)), ["type-case", "ticket-required"]),
        ("not conventional", TicketRule(types=("fix",)), ["header-format"]),
    ],
)
def test_ticket_reference(message: str, ticket: TicketRule, expected: list[str]) -> None:
    assert rules(message, ticket=ticket) == expected


@pytest.mark.parametrize(
    "message",
    ["Merge branch 'x'", 'Revert "feat: x"', "fixup! feat: x", "squash! x", "amend! x"],
)
def test_exemptions_can_be_switched_off(message: str) -> None:
    assert rules(message) == []
    assert rules(message, exemptions=False) != []


def test_exempt_messages_skip_every_rule() -> None:
    strict = {"required_trailers": ("Signed-off-by",), "ticket": TICKET, "scope_required": True}
    assert rules("Merge branch 'main' into feature", **strict) == []


@pytest.mark.parametrize(
    ("header", "corrected"),
    [
        ("Feat(api): Add thing.", "feat(api): add thing"),
        ("feature: Add X", "feat: add X"),
        ("FIX: ADD ALL THE THINGS.", "fix: add all the things"),
        ("feat(): Thing", "feat: thing"),
        ("Added a login page.", "feat: added a login page"),
        ("feat add x", "feat: add x"),
        ("feat!(api): x", "feat(api)!: x"),
        ("feat : x", "feat: x"),
        ("bugfix: x", "fix: x"),
    ],
)
def test_corrected_header_applies_every_fix(header: str, corrected: str) -> None:
    assert corrected_header(header, CommitMsgConfig()) == corrected
    assert lint_message(corrected, CommitMsgConfig()) == []


def test_policy_yaml_reaches_the_rules() -> None:
    policy = parse_policy(
        "commit_msg:\n"
        "  types: [feat, fix]\n"
        "  scopes: [api]\n"
        "  scope_required: true\n"
        "  header_max_length: 50\n"
        "  required_trailers: [Signed-off-by]\n"
        "  ticket:\n"
        "    pattern: 'PROJ-\\d+'\n"
        "    types: [feat]\n"
        "    where: footer\n"
    )
    config = policy.commit_msg
    assert lint_message("fix(api): x\n\nSigned-off-by: A <a@b.c>", config) == []
    got = [p.rule for p in lint_message("feat(db): x", config)]
    assert got == ["scope-enum", "trailer-required", "ticket-required"]


# --- the engine's view -----------------------------------------------------------------------


def _change(*messages: str, forge: str = "github", title: str = "") -> Change:
    commits = tuple(
        Commit(sha=f"{i:040x}", message=m, parents=("a", "b") if m.startswith("MERGE") else ("a",))
        for i, m in enumerate(messages, 1)
    )
    return Change(repository="o/r", forge=forge, commits=commits, title=title)


def test_commit_findings_cover_each_bad_commit_and_skip_merges() -> None:
    change = _change("feat: ok", "Bad message.", "MERGE whatever", 'Revert "x"')
    findings = commit_findings(change, CommitMsgConfig())
    assert [(f.kind, f.rule, f.commit[-1]) for f in findings] == [
        ("commit-message", "header-format", "2")
    ]
    assert "e.g. `fix: bad message`" in findings[0].message
    assert findings[0].line == 1 and findings[0].column == 1


def test_stored_messages_keep_comment_like_lines() -> None:
    change = _change("fix: x\n\n#123 is the issue\n# not a comment once stored")
    assert commit_findings(change, CommitMsgConfig()) == []
    assert commit_findings(_change("#123 fixed"), CommitMsgConfig())[0].rule == "header-format"


@pytest.mark.parametrize(
    ("forge", "title", "pr_title", "expected"),
    [
        ("github", "Add login", True, ["header-format"]),
        ("github", "feat: add login", True, []),
        ("bitbucket-cloud", "Feat: Add login", True, ["type-case", "subject-case"]),
        ("github", "Add login", False, []),
        ("local", "Add login", True, []),
        ("github", 'Revert "feat: add login"', True, []),
    ],
)
def test_pr_title_is_linted_as_a_header(
    forge: str, title: str, pr_title: bool, expected: list[str]
) -> None:
    findings = commit_findings(
        _change(forge=forge, title=title), CommitMsgConfig(pr_title=pr_title)
    )
    assert [f.rule for f in findings] == expected
    assert all(f.message.startswith("PR title: ") for f in findings)


def test_pr_title_ignores_body_only_rules() -> None:
    config = CommitMsgConfig(
        required_trailers=("Signed-off-by",), ticket=TicketRule(where="footer")
    )
    assert lint_title("feat: add login", config) == []
    header_ticket = CommitMsgConfig(ticket=TicketRule(where="header"))
    assert [p.rule for p in lint_title("feat: add login", header_ticket)] == ["ticket-required"]
    assert lint_title("feat: add login ABC-1", header_ticket) == []
