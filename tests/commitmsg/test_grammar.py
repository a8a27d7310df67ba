"""Conventional Commits 1.0.0 grammar under the default policy (commitlint config-conventional)."""

from __future__ import annotations

import pytest

from gitops_health.rules.commitmsg import (
    Header,
    Problem,
    announces_breaking_change,
    lint_message,
    parse_header,
    parse_message,
)
from gitops_health.rules.config.commit_msg import CONVENTIONAL_TYPES, CommitMsgConfig

DEFAULT = CommitMsgConfig()


def rules(message: str, config: CommitMsgConfig = DEFAULT) -> list[str]:
    return [p.rule for p in lint_message(message, config)]


VALID = [
    "feat: add login form",
    "fix: handle empty input",
    "feat(parser): add ability to parse arrays",
    "feat(api)!: send an email to the customer when a product is shipped",
    "feat!: drop support for Node 6",
    "chore(release)!: drop support for Node 6",
    "docs: correct spelling of CHANGELOG",
    "style: format with ruff",
    "refactor(core): extract helper",
    "perf: cache the parsed policy",
    "test: cover the scissors line",
    "build(deps): bump pyyaml from 6.0.1 to 6.0.3",
    "ci: run tests on 3.12",
    "revert: let us never again speak of the noodle incident",
    "type(scope): x" if False else "fix(scope): x",
    "fix(my scope): hello world",
    "fix(scope-with-dash): x",
    "fix(scope_with_underscore): x",
    "fix(@org/pkg): x",
    "fix(a,b): x",
    "fix(a/b): x",
    "fix(x86): handle registers",
    "fix(UI): align buttons",
    "feat: API changes for v2",
    "feat: I added a thing",
    "feat: I'm adding a thing",
    "fix: PRs from forks are labelled",
    "fix: URLs with ports",
    "fix: X11 forwarding",
    "fix: S3 uploads retry",
    "fix: `Foo` is now exported",
    'fix: "Quoted" text first',
    "fix: 'Quoted' text first",
    "fix: 2 bugs in parser",
    "fix: [WIP] handle it",
    "fix: (Windows) path separators",
    "fix: iOS build",
    "fix: eBay integration",
    "fix: ümlauts in file names",
    "fix: 日本語のメッセージ",
    "fix: 🐛 squash the bug",
    "fix: handle 100% cases...!",
    "fix: the version is 1.2",
    "fix: trailing colon:",
    "fix: contains: a colon",
    "fix: add: nested colon",
    "fix: x\n\nbody",
    "fix: x\n\nbody line one\nbody line two",
    "fix: x\n\nparagraph one\n\nparagraph two",
    "fix: x\n\n\n\nbody after several blank lines",
    "fix: x\n\nBody Starts Upper-Case. That is fine.",
    "fix: x\n\nbody\n\nRefs: #123",
    "fix: x\n\nCloses #12",
    "fix: x\n\nbody\n\nCloses #12\nRefs #13",
    "fix: x\n\nbody\n\nReviewed-by: Z\nRefs: #133",
    "fix: x\n\nbody\n\nCo-authored-by: Marge Simpson <marge@simpsons.com>",
    "fix: x\n\nbody\n\nSigned-off-by: Alice <alice@example.com>",
    "feat: x\n\nBREAKING CHANGE: `extends` key now extends other config files",
    "feat: x\n\nBREAKING-CHANGE: it's broken",
    "feat!: x\n\nBREAKING CHANGE: also described in a footer",
    "feat: x\n\nbody\n\nBREAKING CHANGE: a\nmulti-line\nvalue",
    "feat: x\n\nbody\n\nBREAKING CHANGE: a\n  indented continuation",
    "feat: x\n\nBREAKING CHANGE: y\n\nmore explanation of the break",
    "feat: x\n\nbody\n\nBREAKING CHANGE: y\nRefs: #1",
    "feat: x\n\nbody\n\nRefs: #1\nBREAKING CHANGE: y",
    "chore: improve changelog readability\n\nChange date notation from YYYY-MM-DD to "
    "YYYY.MM.DD to make it a tiny bit\neasier to parse while reading.\n\nBREAKING CHANGE: "
    "Just kidding!",
    "docs(example)!: add tested usage example\n\nThis example is tested.\n\n"
    "BREAKING CHANGE: Going from nothing to something\nthat sounds like a change.\n\n"
    "Co-Authored-By: Lisa Simpson <lisa@simpsons.fam>\nCloses #12",
    "fix: x\n\nBreaking changes are listed in the changelog.",
    "fix: x\n\nThe breaking change detector is now faster.",
    "fix: x\n\nNote: this affects Windows only.\n\nMore text.",
    "fix: x\n\nSee https://example.com/a/very/long/url for details",
    "fix: x\n\n- bullet one\n- bullet two\n* star bullet",
    "fix: x\n\n    code block: with colon",
    "fix: x\n\n" + "long body line " * 40,
    "fix: x\n\n" + "\n".join(f"line {i}" for i in range(2000)),
    "fix: " + "x" * 95,
    "fix(a): " + "x" * 92,
    "fix(#123): x",
    "fix: x\r\n\r\nbody\r\n",
    "fix: x   ",
    "\n\nfix: leading blank lines are dropped by git\n\n",
    # git's own wording is exempt
    "Merge branch 'feature/x'",
    "Merge branch 'main' into feature",
    "Merge branch 'main' of github.com:org/repo",
    "Merge branches 'a' and 'b'",
    "Merge tag 'v1.2.0'",
    "Merge remote-tracking branch 'origin/main'",
    "Merge remote-tracking branch 'origin/main' into main",
    "Merge commit 'abc1234'",
    "Merge pull request #123 from user/feature",
    "Merge pull request #12 in PROJ/repo from feature/x to master",
    "Merged in feature/x (pull request #12)",
    "Merge branch 'x'\n\n# Conflicts:\n#\tREADME.md",
    'Revert "feat: add login form"',
    'Revert "feat: add login form"\n\nThis reverts commit 0123456789abcdef.',
    'Revert "Revert "feat: add login form""',
    'Reapply "feat: add login form"',
    'Revert "feat: add login form" (#123)',
    "fixup! feat: add login form",
    "squash! feat: add login form",
    "amend! feat: add login form\n\nfeat: add the login form",
    "fixup! fixup! feat: add login form",
    "squash! Whatever The Target Said.",
]


@pytest.mark.parametrize("message", VALID)
def test_valid_messages_pass(message: str) -> None:
    assert lint_message(message, DEFAULT) == []


INVALID = [
    # header grammar
    ("add login form", ["header-format"]),
    ("Add login form.", ["header-format"]),
    ("feat add login form", ["header-format"]),
    ("feat", ["header-format"]),
    ("feat:", ["subject-empty"]),
    ("feat: ", ["subject-empty"]),
    ("feat(api):", ["subject-empty"]),
    ("feat(api): ", ["subject-empty"]),
    ("feat:add", ["header-format"]),
    ("feat:  add", ["header-format"]),
    ("feat:\tadd", ["header-format"]),
    ("feat : add", ["header-format"]),
    ("feat(api) : add", ["header-format"]),
    ("feat(api) :add", ["header-format"]),
    ("feat (api): add", ["header-format"]),
    ("feat bar(baz): add", ["header-format"]),
    ("feat bar: add", ["header-format"]),
    ("feat(api: add", ["header-format"]),
    ("feat): add", ["header-format"]),
    ("feat(a(b)): add", ["header-format"]),
    ("feat(api)", ["header-format"]),
    ("feat!(api): add", ["header-format"]),
    ("feat!!: add", ["header-format"]),
    ("feat! : add", ["header-format"]),
    ("feat(): add", ["scope-format"]),
    ("feat( ): add", ["scope-format"]),
    (": add", ["type-empty"]),
    ("(api): add", ["type-empty"]),
    ("!: add", ["type-empty"]),
    (" feat: add", ["header-trim"]),
    ("\tfeat: add", ["header-trim"]),
    ("MergeSort: add", ["type-enum"]),
    ("Merge", ["header-format"]),
    ("Merge stuff", ["header-format"]),
    ("Merged stuff", ["header-format"]),
    ("Merging branch 'x'", ["header-format"]),
    ("merge branch 'x'", ["header-format"]),
    ("Revert add login", ["header-format"]),
    ("revert add login", ["header-format"]),
    ("Revert: add login", ["type-case"]),
    ('Reverted "feat: x"', ["header-format"]),
    ('Revert "', ["header-format"]),
    ('Revert ""', ["header-format"]),
    ("fixup!", ["header-format"]),
    ("fixup!add", ["header-format"]),
    ("Fixup! feat: add", ["header-format"]),
    ("WIP", ["header-format"]),
    ("wip: add", ["type-enum"]),
    ("Initial commit", ["header-format"]),
    ("Bump pyyaml from 6.0.1 to 6.0.3", ["header-format"]),
    ("✨ feat: add", ["header-format"]),
    (":sparkles: add", ["header-format"]),
    ("1.2.3", ["header-format"]),
    ("v1.2.3", ["header-format"]),
    # type
    ("feature: add", ["type-enum"]),
    ("feat2: add", ["type-enum"]),
    ("bugfix: x", ["type-enum"]),
    ("fixes: x", ["type-enum"]),
    ("doc: x", ["type-enum"]),
    ("tests: x", ["type-enum"]),
    ("release: x", ["type-enum"]),
    ("my-type: x", ["type-enum"]),
    ("feat.: x", ["type-enum"]),
    ("FEAT: add", ["type-case"]),
    ("Feat: add", ["type-case"]),
    ("fEAT: add", ["type-case"]),
    ("Fix(api): add", ["type-case"]),
    ("FIX!: add", ["type-case"]),
    # description
    ("feat: Add login form", ["subject-case"]),
    ("feat: Adds login form", ["subject-case"]),
    ("feat(api): Add", ["subject-case"]),
    ("feat: A new thing", ["subject-case"]),
    ("feat: GitHub actions", ["subject-case"]),
    ("feat: AddLoginForm", ["subject-case"]),
    ("feat: Add New Login Form", ["subject-case"]),
    ("feat: ADD LOGIN FORM", ["subject-case"]),
    ("feat: Ümlaut first", ["subject-case"]),
    ("feat: Éclair", ["subject-case"]),
    ("feat: add login form.", ["subject-full-stop"]),
    ("feat: add login form...", ["subject-full-stop"]),
    ("feat: Add login form.", ["subject-case", "subject-full-stop"]),
    ("Feat: Add login form.", ["type-case", "subject-case", "subject-full-stop"]),
    ("feature(api): Add thing.", ["type-enum", "subject-case", "subject-full-stop"]),
    ("fix: " + "x" * 96, ["header-max-length"]),
    ("fix(a): " + "x" * 93, ["header-max-length"]),
    ("fix: " + "word " * 40, ["header-max-length"]),
    ("Fix: " + "Word " * 40, ["header-max-length", "type-case", "subject-case"]),
    # body
    ("feat: add\nbody", ["body-leading-blank"]),
    ("feat: add\nRefs: #1", ["body-leading-blank"]),
    ("feat: add\r\nbody", ["body-leading-blank"]),
    ("feat: add\nbody\n\nmore", ["body-leading-blank"]),
    # breaking-change footers
    ("feat: x\n\nBreaking change: y", ["breaking-change-footer"]),
    ("feat: x\n\nbreaking change: y", ["breaking-change-footer"]),
    ("feat: x\n\nBreaking Change: y", ["breaking-change-footer"]),
    ("feat: x\n\nbreaking-change: y", ["breaking-change-footer"]),
    ("feat: x\n\nBreaking-Change: y", ["breaking-change-footer"]),
    ("feat: x\n\nBREAKING CHANGES: y", ["breaking-change-footer"]),
    ("feat: x\n\nBREAKING-CHANGES: y", ["breaking-change-footer"]),
    ("feat: x\n\nBREAKING_CHANGE: y", ["breaking-change-footer"]),
    ("feat: x\n\nBREAKINGCHANGE: y", ["breaking-change-footer"]),
    ("feat: x\n\nBREAKING  CHANGE: y", ["breaking-change-footer"]),
    ("feat: x\n\nBREAKING CHANGE:y", ["breaking-change-footer"]),
    ("feat: x\n\nBREAKING CHANGE :y", ["breaking-change-footer"]),
    ("feat: x\n\nBREAKING CHANGE : y", ["breaking-change-footer"]),
    ("feat: x\n\nBREAKING CHANGE:", ["breaking-change-footer"]),
    ("feat: x\n\nBREAKING CHANGE: ", ["breaking-change-footer"]),
    ("feat: x\n\nBREAKING CHANGE", ["breaking-change-footer"]),
    ("feat: x\n\nBREAKING CHANGE - y", ["breaking-change-footer"]),
    ("feat: x\n\nBREAKING CHANGE -- y", ["breaking-change-footer"]),
    ("feat: x\n\nBREAKING CHANGE = y", ["breaking-change-footer"]),
    ("feat: x\n\nBREAKING CHANGE #12", ["breaking-change-footer"]),
    ("feat: x\n\nBREAKING CHANGE!: y", ["breaking-change-footer"]),
    ("feat: x\n\nBREAKING CHANGE y", ["breaking-change-footer"]),
    ("feat: x\n\nBREAKING CHANGES y", ["breaking-change-footer"]),
    ("feat: x\n\nbody\nBREAKING CHANGE: y", ["breaking-change-footer"]),
    ("feat: x\n\nbody\nBREAKING-CHANGE: y", ["breaking-change-footer"]),
    ("feat: x\n\nbody\n\nRefs: #1\nbreaking change: y", ["breaking-change-footer"]),
    ("feat!: x\n\nBreaking change: y", ["breaking-change-footer"]),
    ("feat: x\nBREAKING CHANGE: y", ["body-leading-blank"]),
    # empty
    ("", ["message-empty"]),
    ("\n\n\n", ["message-empty"]),
    ("   \n\t\n", ["message-empty"]),
    ("# just a comment", ["message-empty"]),
    ("# comment\n# another\n", ["message-empty"]),
    (
        "\n# ------------------------ >8 ------------------------\nfeat: below the cut",
        ["message-empty"],
    ),
]


@pytest.mark.parametrize(("message", "expected"), INVALID)
def test_invalid_messages_name_each_broken_rule(message: str, expected: list[str]) -> None:
    assert sorted(rules(message)) == sorted(expected)


@pytest.mark.parametrize(("message", "_"), INVALID)
def test_every_problem_has_a_message_and_an_example(message: str, _: list[str]) -> None:
    for problem in lint_message(message, DEFAULT):
        assert problem.message
        assert problem.example
        if problem.line == 1:
            assert 1 <= problem.column < problem.end_column


@pytest.mark.parametrize(("message", "_"), [m for m in INVALID if m[1][0] != "message-empty"])
def test_header_examples_are_themselves_valid(message: str, _: list[str]) -> None:
    for problem in lint_message(message, DEFAULT):
        if problem.line != 1 or problem.rule in ("header-max-length", "header-trim"):
            continue
        example_rules = set(rules(problem.example))
        assert problem.rule not in example_rules, (problem, example_rules)


@pytest.mark.parametrize("type_", CONVENTIONAL_TYPES)
@pytest.mark.parametrize("suffix", ["", "(scope)", "!", "(scope)!"])
def test_each_default_type_with_scope_and_bang(type_: str, suffix: str) -> None:
    assert rules(f"{type_}{suffix}: do the thing") == []
    assert rules(f"{type_.upper()}{suffix}: do the thing") == ["type-case"]


@pytest.mark.parametrize(
    ("header", "parts"),
    [
        ("feat: x", ("feat", None, False, "x")),
        ("feat(api): x y", ("feat", "api", False, "x y")),
        ("feat(api)!: x", ("feat", "api", True, "x")),
        ("feat!: x", ("feat", None, True, "x")),
        ("fix(my scope): hello world", ("fix", "my scope", False, "hello world")),
        ("fix(a,b): x: y", ("fix", "a,b", False, "x: y")),
        (": x", ("", None, False, "x")),
    ],
)
def test_parse_header_parts(header: str, parts: tuple[object, ...]) -> None:
    parsed = parse_header(header)
    assert isinstance(parsed, Header)
    assert (parsed.type, parsed.scope, parsed.bang, parsed.description) == parts
    assert parsed.render() == header


@pytest.mark.parametrize(
    ("header", "column"),
    [("feat add", 5), ("feat : x", 5), ("feat:x", 6), ("feat(x: y", 5), ("nope", 1)],
)
def test_header_format_points_at_the_offending_column(header: str, column: int) -> None:
    problem = parse_header(header)
    assert isinstance(problem, Problem)
    assert problem.column == column


def test_footers_are_git_trailers_with_multi_line_values() -> None:
    message = parse_message(
        "feat: x\n\nbody text\n\nBREAKING CHANGE: a\nsecond line\n  third\nRefs #12\nAcked-by: Bob"
    )
    assert message.body == "body text"
    assert [(f.token, f.separator, f.value) for f in message.footers] == [
        ("BREAKING CHANGE", ": ", "a\nsecond line\n  third"),
        ("Refs", " #", "12"),
        ("Acked-by", ": ", "Bob"),
    ]
    assert message.footers[0].is_breaking and message.footers[0].line == 5


def test_a_footer_value_may_span_paragraphs() -> None:
    message = parse_message("feat: x\n\nBREAKING CHANGE: a\n\nmore on the break")
    assert message.footers[0].value == "a\n\nmore on the break"
    assert message.body == ""


@pytest.mark.parametrize(
    "line",
    ["Acked by: Bob", "https://example.com", "Token:value", "Token #", "foo:", "-x: y", "_x: y"],
)
def test_lines_that_are_not_footers(line: str) -> None:
    assert parse_message(f"fix: x\n\n{line}").footers == ()


def test_spaced_token_is_body_not_a_footer() -> None:
    message = parse_message("fix: x\n\nReviewed by: Bob")
    assert message.body == "Reviewed by: Bob" and message.footers == ()


@pytest.mark.parametrize(
    ("message", "breaking"),
    [
        ("feat!: x", True),
        ("feat(api)!: x", True),
        ("feat: x\n\nBREAKING CHANGE: y", True),
        ("feat: x\n\nBREAKING-CHANGE: y", True),
        ("feat: x\n\nbreaking-change: y", False),
        ("feat: x\n\nbody", False),
        ("feat: BREAKING CHANGE in the header", False),
        ("not conventional", False),
        ("", False),
    ],
)
def test_announces_breaking_change(message: str, breaking: bool) -> None:
    assert announces_breaking_change(message) is breaking


def test_huge_body_is_linted_quickly_and_correctly() -> None:
    body = "\n".join(f"line {i}: " + "word " * 30 for i in range(20000))
    assert lint_message(f"fix: x\n\n{body}", DEFAULT) == []
    assert rules(f"Fix: x\n\n{body}\n\nBreaking change: y") == [
        "type-case",
        "breaking-change-footer",
    ]
