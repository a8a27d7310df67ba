"""The message as git will store it: comments, scissors, whitespace, comment chars."""

from __future__ import annotations

import pytest

from gitops_health.rules.commitmsg import clean_message, lint_message, resolve_comment_char
from gitops_health.rules.config.commit_msg import CommitMsgConfig

SCISSORS = "------------------------ >8 ------------------------"
GIT_HINT = (
    "{c} Please enter the commit message for your changes. Lines starting\n"
    "{c} with '{c}' will be ignored, and an empty message aborts the commit.\n"
    "{c}\n{c} On branch main\n"
)


@pytest.mark.parametrize(
    ("raw", "cleaned"),
    [
        ("fix: x\n", "fix: x"),
        ("fix: x", "fix: x"),
        ("fix: x\r\n\r\nbody\r\n", "fix: x\n\nbody"),
        ("fix: x  \t\nbody \n", "fix: x\nbody"),
        ("\n\n  \nfix: x\n\n\n\nbody\n\n\n", "fix: x\n\nbody"),
        ("fix: x\n# comment\n\nbody\n#\n", "fix: x\n\nbody"),
        ("fix: x\n\n  # indented is not a comment\n", "fix: x\n\n  # indented is not a comment"),
        ("fix: x\n\nbody\n# " + SCISSORS + "\ndiff --git a/f b/f\n+x\n", "fix: x\n\nbody"),
        ("fix: x\n\nbody\n# " + SCISSORS + "\r\n+x\n", "fix: x\n\nbody"),
        ("fix: x\n#" + SCISSORS + "\nnot a cut line\n", "fix: x\nnot a cut line"),
        ("\ufefffix: x\n", "fix: x"),
        ("fix: x\n\n\u00a0\n", "fix: x\n\n\u00a0"),
        ("fix: x\x0cpage\n", "fix: x\x0cpage"),
        ("fix: a\u2028b\n", "fix: a\u2028b"),
        ("# only comments\n#\n", ""),
        ("", ""),
    ],
)
def test_clean_like_git_commit(raw: str, cleaned: str) -> None:
    assert clean_message(raw) == cleaned


def test_verbose_commit_diff_after_scissors_is_never_linted() -> None:
    diff = "diff --git a/x b/x\n+Breaking change: not in the message\n+" + "y" * 500
    raw = "fix: x\n" + GIT_HINT.format(c="#") + f"# {SCISSORS}\n# Do not modify\n{diff}\n"
    assert lint_message(raw, CommitMsgConfig(body_max_line_length=72)) == []


def test_custom_comment_char_strips_only_that_char() -> None:
    raw = "fix: x\n\n#123 is the issue\n; a comment\n"
    assert clean_message(raw, ";") == "fix: x\n\n#123 is the issue"
    assert clean_message(raw, "#") == "fix: x\n\n; a comment"


def test_custom_comment_char_scissors() -> None:
    raw = f"fix: x\n; {SCISSORS}\ndiff\n"
    assert clean_message(raw, ";") == "fix: x"
    assert clean_message(raw, "#") == f"fix: x\n; {SCISSORS}\ndiff"


def test_multi_character_comment_string() -> None:
    assert clean_message("fix: x\n// note\n/ kept\n", "//") == "fix: x\n/ kept"


def test_empty_comment_char_keeps_every_line() -> None:
    assert clean_message("#1 fix\n# kept\n", "") == "#1 fix\n# kept"


@pytest.mark.parametrize(
    ("raw", "char"),
    [
        ("fix: x\n" + GIT_HINT.format(c="#"), "#"),
        ("fix: x\n\n#123 is the issue\n" + GIT_HINT.format(c=";"), ";"),
        ("fix: x\n\n#1\n;2\n" + GIT_HINT.format(c="@"), "@"),
        (f"fix: x\n\n#1\n; {SCISSORS}\ndiff\n", ";"),
        ("fix: x\n\nbody\n", "#"),
        ("fix: x\n\n#123 body\n", ";"),
        ("#;@!$%^&|:\n#\n;\n@\n!\n$\n%\n^\n&\n|\n:\n", "#"),
    ],
)
def test_auto_comment_char_is_what_git_chose(raw: str, char: str) -> None:
    assert resolve_comment_char(raw, "auto") == char


def test_auto_without_git_comments_strips_nothing() -> None:
    raw = "fix: x\n\n#123 is the issue\n"
    assert clean_message(raw, "auto") == "fix: x\n\n#123 is the issue"


def test_auto_strips_the_hint_and_keeps_hash_lines() -> None:
    raw = "fix: x\n\n#123 is the issue\n\n" + GIT_HINT.format(c=";")
    assert clean_message(raw, "auto") == "fix: x\n\n#123 is the issue"
    assert lint_message(raw, CommitMsgConfig(), "auto") == []


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "\n",
        "   \n\n\t\n",
        GIT_HINT.format(c="#"),
        f"# {SCISSORS}\nfeat: only in the diff\n",
        "\ufeff\n",
    ],
)
def test_empty_result_is_an_error_not_a_pass(raw: str) -> None:
    assert [p.rule for p in lint_message(raw, CommitMsgConfig())] == ["message-empty"]


@pytest.mark.parametrize(
    "message",
    [
        "fix: naïve café résumé",
        "fix(ü): ümlaut scope",
        "fix: 中文描述\n\n正文",
        "fix: emoji 🎉\n\nbody 🎉",
        "fix: x\n\nRefs: Ünïcödé-Tökën",
        "fix: ß is lower-case",
    ],
)
def test_unicode_messages(message: str) -> None:
    assert lint_message(message, CommitMsgConfig()) == []


def test_crlf_everywhere_is_the_same_as_lf() -> None:
    message = "feat(api)!: x\n\nbody\n\nBREAKING CHANGE: y\nRefs: #1\n"
    assert lint_message(message.replace("\n", "\r\n"), CommitMsgConfig()) == []
    bad = "Feat: x\r\nbody\r\n"
    assert [p.rule for p in lint_message(bad, CommitMsgConfig())] == [
        "type-case",
        "body-leading-blank",
    ]
