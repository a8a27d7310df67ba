"""Conventional Commits 1.0.0 checker: clean a message as git stores it, parse it, apply a policy.

Pure: no git, no I/O. The commit-msg hook passes the message file's text and the resolved
`core.commentChar`; the engine passes stored commit messages and PR titles.
"""

from __future__ import annotations

import re
from collections import namedtuple

from gitops_health.rules.config.commit_msg_defaults import CONVENTIONAL_TYPES

# The commit-msg hook imports this module on every commit, and `typing` alone costs it several
# milliseconds: mypy reads typing's NamedTuple, the interpreter the equivalent below.
TYPE_CHECKING = False  # mypy treats this name as typing.TYPE_CHECKING
if TYPE_CHECKING:
    from typing import NamedTuple

    from gitops_health.rules.change import Change
    from gitops_health.rules.config.commit_msg import CommitMsgConfig
    from gitops_health.rules.config.commit_msg_defaults import CommitMsgDefaults
    from gitops_health.rules.report import Finding

    Config = CommitMsgConfig | CommitMsgDefaults  # the hook passes DEFAULTS without a policy

AUTO_COMMENT_CHARS = "#;@!$%^&|:"  # git's candidates for core.commentChar=auto, in its order
CUT_LINE = "------------------------ >8 ------------------------"
GIT_SPACE = " \t\n\r"  # what git's stripspace trims at line ends
SCOPE_SEPARATORS = r"\s*[,/]\s*"
BREAKING_TOKENS = ("BREAKING CHANGE", "BREAKING-CHANGE")

_TYPE = re.compile(r"[^\s():!]*")
# Patterns most messages never reach stay strings: `re` compiles them on first use. The
# `*_NEEDS` checks are cheap necessary conditions, so most messages skip the regex entirely.
_FOOTER = r"(?P<token>BREAKING CHANGE|[^\W_][\w-]*)(?P<sep>: | #)(?P<value>.*)"
_FOOTER_NEEDS = (": ", " #")
_BREAKING_LIKE = r"(?i:breaking[ \t_-]*changes?\b)"
_BREAKING_LIKE_NEEDS = ("b", "B")  # no other character folds to `b`
_VALID_BREAKING = r"BREAKING[ -]CHANGE: \S"
_URL = r"\S+://\S+"
_FIRST_WORD = r"[^\W_]+(?:'[^\W_]+)?"
_ACRONYM = r"(?:[A-Z][A-Z0-9]*[A-Z0-9]|[A-Z0-9]*[A-Z][A-Z0-9]+)s?|I(?:'[a-z]+)?"
_EXEMPT = (
    r"Merge (?:branch|branches|tag|tags|remote-tracking branch|remote-tracking branches"
    r"|commit|commits) \S"
    r"|Merge pull request #\d+ (?:from|in) \S"
    r"|Merged in \S+ \(pull request #\d+\)"
    r'|(?:Revert|Reapply) ".+"'
    r"|(?:fixup|squash|amend)! \S"
)
_EXEMPT_NEEDS = ("Merge", "Revert ", "Reapply ", "fixup! ", "squash! ", "amend! ")
TYPE_ALIASES = {
    "feature": "feat", "features": "feat", "new": "feat", "add": "feat", "added": "feat",
    "bug": "fix", "bugfix": "fix", "hotfix": "fix", "fixed": "fix", "fixes": "fix",
    "doc": "docs", "documentation": "docs", "readme": "docs", "tests": "test", "testing": "test",
    "chores": "chore", "refactoring": "refactor", "performance": "perf", "styles": "style",
    "format": "style", "deps": "build", "dependencies": "build", "release": "chore",
}  # fmt: skip
VERB_TYPES = {
    "add": "feat", "added": "feat", "adds": "feat", "implement": "feat", "introduce": "feat",
    "support": "feat", "create": "feat", "fix": "fix", "fixed": "fix", "fixes": "fix",
    "resolve": "fix", "correct": "fix", "document": "docs", "refactor": "refactor",
    "test": "test", "bump": "build", "upgrade": "build", "revert": "revert",
}  # fmt: skip

RULE_HELP: dict[str, tuple[str, str]] = {
    "message-empty": (
        "Git aborts a commit whose message is empty once comments and the `git commit -v` diff "
        "are removed, so an empty message is never accepted.",
        "",
    ),
    "header-trim": ("The header (first line) must not start with whitespace.", ""),
    "header-format": (
        "The first line must read `type(scope)!: description`: a type, an optional scope in "
        "parentheses, an optional `!` for a breaking change, a colon, exactly one space and the "
        "description (Conventional Commits 1.0.0, items 1-4).",
        "",
    ),
    "type-empty": ("A type such as `feat` or `fix` must come before the colon.", ""),
    "type-enum": ("The type must be one of the types the policy allows.", "commit_msg.types"),
    "type-case": (
        "The spec treats types case-insensitively, but this policy wants them lower-case "
        "(as commitlint's config-conventional does).",
        "commit_msg.type_case",
    ),
    "scope-empty": ("The policy requires a scope: `type(scope): description`.",
                    "commit_msg.scope_required"),
    "scope-format": ("A scope is a non-empty noun inside one pair of parentheses.", ""),
    "scope-enum": ("The scope must be one of the scopes the policy allows.", "commit_msg.scopes"),
    "subject-empty": ("The description after `type: ` must not be empty.", ""),
    "subject-case": (
        "The description must not start with an upper-case letter (acronyms such as `API` "
        "and the word `I` are fine); nor may it be written entirely in capitals.",
        "commit_msg.subject_case",
    ),
    "subject-full-stop": ("The description must not end with a full stop.",
                          "commit_msg.subject_full_stop"),
    "header-max-length": ("The header is too long; move detail into the body.",
                          "commit_msg.header_max_length"),
    "body-leading-blank": (
        "A blank line must separate the header from the body, otherwise git and changelog "
        "tools read the body as part of the subject.",
        "commit_msg.body_leading_blank",
    ),
    "body-max-line-length": ("A body line is too long (lines that are URLs do not count).",
                             "commit_msg.body_max_line_length"),
    "footer-max-line-length": ("A footer line is too long (URLs do not count).",
                               "commit_msg.footer_max_line_length"),
    "breaking-change-footer": (
        "A breaking-change footer must be written exactly `BREAKING CHANGE: <description>` (or "
        "`BREAKING-CHANGE: ...`), upper-case, at the start of a footer paragraph after a blank "
        "line. Anything else is silently missed by changelog and release tools.",
        "",
    ),
    "trailer-required": ("The policy requires this trailer in the footer (`Token: value`).",
                         "commit_msg.required_trailers"),
    "ticket-required": ("The policy requires a ticket reference matching its pattern.",
                        "commit_msg.ticket"),
}  # fmt: skip


if not TYPE_CHECKING:

    class _NamedTupleMeta(type):
        """`class X(NamedTuple)` as typing builds it: fields with defaults, then the methods."""

        def __new__(mcs, name: str, bases: tuple[type, ...], namespace: dict[str, object]) -> type:
            if not bases:  # NamedTuple itself
                return super().__new__(mcs, name, bases, namespace)
            fields: dict[str, str] = namespace.pop("__annotations__", {})
            defaults = [namespace[field] for field in fields if field in namespace]
            cls = namedtuple(name, fields, defaults=defaults, module=str(namespace["__module__"]))
            cls.__annotations__ = fields
            for key, value in namespace.items():
                if key != "__module__" and key not in fields:
                    setattr(cls, key, value)
            return cls

    class NamedTuple(metaclass=_NamedTupleMeta):
        pass


class Problem(NamedTuple):
    """One rule violation, located in the cleaned message."""

    rule: str
    message: str
    line: int = 0  # 1-based line of the cleaned message; 0 = the message as a whole
    column: int = 0  # 1-based start of the offending span; 0 = the whole line
    end_column: int = 0  # 1-based, exclusive
    example: str = ""  # the line corrected (or the line to add)


class Header(NamedTuple):
    """`type(scope)!: description`, with where each part starts (0-based columns)."""

    type: str
    scope: str | None
    bang: bool
    description: str
    indent: int = 0  # leading whitespace before the type

    @property
    def scope_column(self) -> int:
        return self.indent + len(self.type) + 1

    @property
    def description_column(self) -> int:
        scope = 0 if self.scope is None else len(self.scope) + 2
        return self.indent + len(self.type) + scope + self.bang + 2

    def render(self) -> str:
        scope = "" if self.scope is None else f"({self.scope})"
        return f"{self.type}{scope}{'!' if self.bang else ''}: {self.description}"


class Footer(NamedTuple):
    token: str
    separator: str  # ": " or " #"
    value: str  # continuation lines joined with "\n"
    line: int  # 1-based line of the token

    @property
    def is_breaking(self) -> bool:
        return self.token in BREAKING_TOKENS


class Message(NamedTuple):
    """A cleaned message split per the spec: header, body lines, footers."""

    lines: tuple[str, ...]
    body_start: int  # 0-based index of the first body line (len(lines) when none)
    footer_start: int  # 0-based index of the first footer line (len(lines) when none)
    footers: tuple[Footer, ...]

    @property
    def header(self) -> str:
        return self.lines[0]

    @property
    def body(self) -> str:
        return "\n".join(self.lines[self.body_start : self.footer_start]).strip("\n")


# --- cleaning -----------------------------------------------------------------------------


def resolve_comment_char(text: str, comment_char: str) -> str:
    """The comment prefix git used; `auto` is inferred from the text git itself wrote.

    With `auto` git picks the first of `#;@!$%^&|:` that starts no line of the message, then
    writes its hint (and scissors) lines with it; those lines reveal the choice. Without them
    git added no comments, and the first unused candidate strips nothing, as git does.
    """
    if comment_char != "auto":
        return comment_char
    lines = [line.rstrip(GIT_SPACE) for line in text.split("\n")]
    for char in AUTO_COMMENT_CHARS:
        if f"{char} {CUT_LINE}" in lines:
            return char
    for char in AUTO_COMMENT_CHARS:
        if any(line.startswith(char) and f"'{char}'" in line for line in lines):
            return char
    starts = {line[:1] for line in lines}
    return next((c for c in AUTO_COMMENT_CHARS if c not in starts), "#")


def clean_message(text: str, comment_char: str = "#") -> str:
    """The message as `git commit` stores it (cleanup=strip), without the final newline.

    Cuts at the scissors line, drops comment lines, trims trailing whitespace (CR included),
    collapses runs of blank lines and drops leading/trailing ones. `comment_char=""` keeps
    comment-like lines (for messages already stored by git).
    """
    text = text.removeprefix("\ufeff")
    char = resolve_comment_char(text, comment_char)
    kept: list[str] = []
    for raw in text.split("\n"):
        if char and raw.rstrip(GIT_SPACE) == f"{char} {CUT_LINE}":
            break
        if char and raw.startswith(char):
            continue
        line = raw.rstrip(GIT_SPACE)
        if line or (kept and kept[-1]):
            kept.append(line)
    while kept and not kept[-1]:
        kept.pop()
    return "\n".join(kept)


def is_exempt(header: str) -> bool:
    """Git's (and the forges') own wording: merges, reverts, reapplies and autosquash commits."""
    return header.startswith(_EXEMPT_NEEDS) and re.match(_EXEMPT, header) is not None


# --- parsing ------------------------------------------------------------------------------


def parse_header(header: str) -> Header | Problem:
    """Split a header into its parts, or say precisely why it does not follow the grammar."""
    indent = len(header) - len(header.lstrip())
    text = header[indent:]
    type_ = _TYPE.match(text).group()  # type: ignore[union-attr]  # matches the empty string
    pos = len(type_)
    scope: str | None = None
    if text.startswith("(", pos):
        close = text.find(")", pos)
        if close == -1:
            return _header_problem(header, "scope is missing its closing `)`", indent + pos)
        scope = text[pos + 1 : close]
        if "(" in scope:
            return _header_problem(header, "scope must not contain `(`", indent + pos)
        pos = close + 1
    bang = text.startswith("!", pos)
    pos += bang
    if not text.startswith(":", pos):
        return _separator_problem(header, text[:pos], text[pos:], indent)
    rest = text[pos + 1 :]
    if rest and (not rest.startswith(" ") or rest[1:2].isspace()):
        why = "put exactly one space after `:`"
        example = f"{text[:pos]}: {rest.strip()}"
        return _header_problem(header, why, indent + pos + 1, example)
    return Header(type_, scope, bang, rest[1:], indent)


def _separator_problem(header: str, prefix: str, after: str, indent: int) -> Problem:
    column = indent + len(prefix)
    head, colon, tail = after.partition(":")
    if colon and not head.strip():
        example = f"{prefix}: {tail.strip()}"
        return _header_problem(header, "no space is allowed before `:`", column, example)
    if colon and "!" in prefix + head and " " not in (prefix + head).strip():
        example = f"{(prefix + head).replace('!', '')}!: {tail.strip()}"
        return _header_problem(header, "`!` goes right before `:`, after the scope", column,
                               example)  # fmt: skip
    if prefix.lower() in CONVENTIONAL_TYPES and after.startswith(" ") and not colon:
        example = f"{prefix}: {after.strip()}"
        return _header_problem(header, f"put `:` right after `{prefix}`", column, example)
    why = "the header must start with a type: `type: description` or `type(scope): description`"
    return _header_problem(header, why, indent)


def _header_problem(header: str, why: str, column: int, example: str = "") -> Problem:
    example = example or guess_header(header.strip())
    return Problem("header-format", why, 1, column + 1, len(header) + 1, example)


def guess_header(text: str) -> str:
    """A plausible conventional header for a free-form one (used only in error examples)."""
    head, colon, tail = text.partition(":")
    if colon and tail.strip() and " " not in head.strip():
        type_ = suggest_type(re.sub(r"[^\w-]", "", head).lower() or "fix", CONVENTIONAL_TYPES)
        return f"{type_}: {_lower_first(tail.strip())}".rstrip(".")
    first = text.split(" ", 1)[0].lower()
    type_ = VERB_TYPES.get(first, "fix")
    return f"{type_}: {_lower_first(text) or 'describe the change'}".rstrip(".")


def parse_message(text: str) -> Message:
    """Split a cleaned message: header, body, and footers from the first footer paragraph on.

    A paragraph (after the header) whose first line is `Token: value` or `Token #value`
    starts the footers; a footer's value runs until the next footer token (spec items 8-10).
    """
    lines = tuple(text.split("\n"))
    body_start = 2 if len(lines) > 1 and not lines[1] else 1
    footer_start = len(lines)
    for index in range(1, len(lines)):
        starts_paragraph = index == 1 or not lines[index - 1]
        if starts_paragraph and _footer_start(lines[index]):
            footer_start = index
            break
    return Message(lines, min(body_start, footer_start), footer_start,
                   tuple(_footers(lines, footer_start)))  # fmt: skip


def _footer_start(line: str) -> re.Match[str] | None:
    if not any(separator in line for separator in _FOOTER_NEEDS):
        return None
    match = re.match(_FOOTER, line)
    return match if match and match["value"].strip() else None


def _footers(lines: tuple[str, ...], start: int) -> list[Footer]:
    found: list[tuple[re.Match[str], int, list[str]]] = []
    for index in range(start, len(lines)):
        match = _footer_start(lines[index])
        if match:
            found.append((match, index + 1, [match["value"]]))
        elif found:
            found[-1][2].append(lines[index])
    return [
        Footer(m["token"], m["sep"], "\n".join(values).rstrip("\n"), line)
        for m, line, values in found
    ]


def announces_breaking_change(text: str, comment_char: str = "") -> bool:
    """True when a conventional message announces a breaking change (`!` or footer)."""
    message = parse_message(clean_message(text, comment_char) or " ")
    header = parse_header(message.header)
    return (isinstance(header, Header) and header.bang) or any(
        f.is_breaking for f in message.footers
    )


# --- rules --------------------------------------------------------------------------------


def lint_message(text: str, config: Config, comment_char: str = "#") -> list[Problem]:
    """Every problem of a commit message (file text) under `config`; [] when accepted."""
    cleaned = clean_message(text, comment_char)
    if not cleaned:
        why = "the message is empty (after removing comments), so git would abort the commit"
        return [Problem("message-empty", why, 0, 0, 0, "feat: add the login form")]
    message = parse_message(cleaned)
    if config.exemptions and is_exempt(message.header):
        return []
    problems, header, _ = _check_header(message.header, config)
    problems += _body_problems(message, config)
    problems += _ticket_problems(message, header, config)
    return problems


def lint_title(title: str, config: Config) -> list[Problem]:
    """Problems of a PR title read as a commit header (squash merges use it as the subject)."""
    header_text = clean_message(title, "").split("\n", 1)[0]
    if not header_text:
        return [Problem("message-empty", "the title is empty", 0, 0, 0, "feat: add login form")]
    if config.exemptions and is_exempt(header_text):
        return []
    problems, header, _ = _check_header(header_text, config)
    message = parse_message(header_text)
    return problems + _ticket_problems(message, header, config, title=True)


Fix = dict[str, object]  # Header fields a check would change to fix its problem


def corrected_header(text: str, config: Config) -> str:
    """The header with every header-level fix applied at once ("" when it cannot be parsed)."""
    problems, parsed, fix = _check_header(text, config)
    if parsed is None:
        return next((p.example for p in problems if p.rule == "header-format"), "")
    fixed = parsed._replace(indent=0, **fix).render()  # type: ignore[arg-type]
    limit = config.header_max_length
    return _too_long(fixed, limit).example if limit and len(fixed) > limit else fixed


def _check_header(text: str, config: Config) -> tuple[list[Problem], Header | None, Fix]:
    problems: list[Problem] = []
    if text[:1].isspace():
        problems.append(Problem("header-trim", "the header starts with whitespace", 1, 1,
                                len(text) - len(text.lstrip()) + 1, text.strip()))  # fmt: skip
    if config.header_max_length and len(text) > config.header_max_length:
        problems.append(_too_long(text, config.header_max_length))
    parsed = parse_header(text)
    if isinstance(parsed, Problem):
        return [*problems, parsed], None, {}
    fixes: Fix = {}
    for check in (_type_problem, _scope_problem, *_DESCRIPTION_CHECKS):
        found = check(parsed, config)
        if found is not None:
            problem, fix = found
            example = parsed._replace(indent=0, **fix).render()  # type: ignore[arg-type]
            problems.append(problem._replace(example=example))
            fixes.update(fix)
    return problems, parsed, fixes


def _too_long(text: str, limit: int) -> Problem:
    cut = text[:limit].rsplit(" ", 1)[0] if " " in text[:limit] else text[:limit]
    why = f"the header is {len(text)} characters; at most {limit} are allowed"
    return Problem("header-max-length", why, 1, limit + 1, len(text) + 1, cut.strip())


Found = tuple[Problem, Fix] | None


def _type_problem(header: Header, config: Config) -> Found:
    type_, start = header.type, header.indent + 1
    end = start + len(type_)
    if not type_:
        problem = Problem("type-empty", "the type is missing before `:`", 1, start, start + 1)
        return problem, {"type": suggest_type("feat", config.types)}
    if config.types and type_ in config.types:
        return None
    allowed = config.types or (type_.lower(),)
    if type_.lower() not in {t.lower() for t in allowed}:
        why = f"type `{type_}` is not allowed; use one of: {', '.join(config.types)}"
        return Problem("type-enum", why, 1, start, end), {"type": suggest_type(type_, config.types)}
    if config.type_case == "lower" and type_ != type_.lower():
        why = f"type `{type_}` must be lower-case"
        return Problem("type-case", why, 1, start, end), {"type": type_.lower()}
    return None


def suggest_type(type_: str, allowed: tuple[str, ...]) -> str:
    """The allowed type the author most likely meant."""
    import difflib

    lowered = type_.lower()
    if lowered in allowed or not allowed:
        return lowered
    alias = TYPE_ALIASES.get(lowered, "")
    if alias in allowed:
        return alias
    close = difflib.get_close_matches(lowered, allowed, n=1, cutoff=0.6)
    return close[0] if close else ("feat" if "feat" in allowed else allowed[0])


def _scope_problem(header: Header, config: Config) -> Found:
    scope = header.scope
    default_scope = (config.scopes or ("core",))[0]
    if scope is None:
        if not config.scope_required:
            return None
        col = header.scope_column
        problem = Problem("scope-empty", "a scope is required: `type(scope): ...`", 1, col, col + 1)
        return problem, {"scope": default_scope}
    start = header.scope_column + 1
    span = (1, start, start + len(scope))
    if not scope.strip():
        fix = {"scope": default_scope if config.scope_required else None}
        parens = (1, start - 1, start + len(scope) + 1)
        return Problem("scope-format", "the scope `()` is empty", *parens), fix
    if not config.scopes:
        return None
    parts = re.split(SCOPE_SEPARATORS, scope) if config.multiple_scopes else [scope]
    unknown = [p for p in parts if p not in config.scopes]
    if not unknown:
        return None
    import difflib

    fixed = [
        p if p in config.scopes else
        (difflib.get_close_matches(p, config.scopes, n=1, cutoff=0.5) or [default_scope])[0]
        for p in parts
    ]  # fmt: skip
    joiner = "," if "," in scope else "/"
    names = ", ".join(f"`{p}`" for p in unknown)
    why = f"scope {names} is not allowed; use one of: {', '.join(config.scopes)}"
    if not config.multiple_scopes and re.search(SCOPE_SEPARATORS, scope):
        why += " (one scope only: commit_msg.multiple_scopes is off)"
    return Problem("scope-enum", why, *span), {"scope": joiner.join(dict.fromkeys(fixed))}


def _empty_description(header: Header, config: Config) -> Found:
    if header.description:
        return None
    start = header.description_column + 1
    problem = Problem("subject-empty", "the description after `: ` is empty", 1, start, start + 1)
    return problem, {"description": "describe the change"}


def _description_case(header: Header, config: Config) -> Found:
    desc, start = header.description, header.description_column + 1
    if config.subject_case != "lower" or not starts_upper_case(desc):
        return None
    if is_shouting(desc):
        why = "the description must not be written in capitals"
        return Problem("subject-case", why, 1, start, start + len(desc)), {
            "description": desc.lower()
        }
    word = re.match(_FIRST_WORD, desc)
    end = start + (word.end() if word else 1)
    why = "the description must not start with a capital letter"
    return Problem("subject-case", why, 1, start, end), {"description": _lower_first(desc)}


def _description_full_stop(header: Header, config: Config) -> Found:
    desc = header.description
    if config.subject_full_stop or not desc.endswith("."):
        return None
    end = header.description_column + 1 + len(desc)
    dots = len(desc) - len(desc.rstrip("."))
    problem = Problem("subject-full-stop", "the description must not end with `.`", 1,
                      end - dots, end)  # fmt: skip
    return problem, {"description": _lower_fixed(header, config).rstrip(". ")}


def _lower_fixed(header: Header, config: Config) -> str:
    """The description with the case fix already applied, so fixes combine."""
    found = _description_case(header, config)
    return str(found[1]["description"]) if found else header.description


_DESCRIPTION_CHECKS = (_empty_description, _description_case, _description_full_stop)


def starts_upper_case(description: str) -> bool:
    """A capitalised first word (acronyms like `API`, `PRs` and the word `I` are allowed)."""
    first = description[:1]
    if not (first.isupper() or first.istitle()):
        return False
    if is_shouting(description):
        return True
    word = re.match(_FIRST_WORD, description)
    return word is None or re.fullmatch(_ACRONYM, word.group()) is None


def is_shouting(description: str) -> bool:
    """Two or more words with letters, every letter upper-case."""
    words = [w for w in description.split() if any(c.isalpha() for c in w)]
    return len(words) >= 2 and description.upper() == description


def _lower_first(text: str) -> str:
    word = re.match(_FIRST_WORD, text)
    if word and re.fullmatch(_ACRONYM, word.group()) and not is_shouting(text):
        return text
    return text[:1].lower() + text[1:]


def _body_problems(message: Message, config: Config) -> list[Problem]:
    lines = message.lines
    problems: list[Problem] = []
    if config.body_leading_blank and len(lines) > 1 and lines[1]:
        example = f"{lines[0]}\\n\\n{lines[1]}"
        problems.append(Problem("body-leading-blank", "put a blank line after the header", 2, 1,
                                len(lines[1]) + 1, example))  # fmt: skip
    problems += _breaking_change_problems(message)
    limits = (
        ("body-max-line-length", config.body_max_line_length, range(1, message.footer_start)),
        ("footer-max-line-length", config.footer_max_line_length,
         range(message.footer_start, len(lines))),
    )  # fmt: skip
    for rule, limit, indexes in limits:
        if limit:
            problems += [_long_line(rule, lines[i], i, limit) for i in indexes
                         if len(re.sub(_URL, "", lines[i])) > limit]  # fmt: skip
    found = {f.token.lower() for f in message.footers}
    for token in config.required_trailers:
        if token.lower() not in found:
            value = "Your Name <you@example.com>" if token.lower() == "signed-off-by" else "..."
            why = f"the `{token}:` trailer is missing from the footer"
            if token.lower() == "signed-off-by":
                why += " (`git commit -s` adds it)"
            problems.append(Problem("trailer-required", why, 0, 0, 0, f"{token}: {value}"))
    return problems


def _long_line(rule: str, line: str, index: int, limit: int) -> Problem:
    cut = line[:limit].rsplit(" ", 1)[0] if " " in line[:limit] else line[:limit]
    why = f"line is {len(line)} characters; at most {limit} are allowed"
    example = f"{cut}\\n{line[len(cut) :].strip()}"
    return Problem(rule, why, index + 1, limit + 1, len(line) + 1, example)


def _breaking_change_problems(message: Message) -> list[Problem]:
    problems: list[Problem] = []
    for index in range(1, len(message.lines)):
        line = message.lines[index]
        match = re.match(_BREAKING_LIKE, line) if line.startswith(_BREAKING_LIKE_NEEDS) else None
        if not match:
            continue
        rest = line[match.end() :]
        detail = rest.lstrip(" \t:#-=>").strip() or "<what breaks and how to migrate>"
        example = f"BREAKING CHANGE: {detail}"
        span = (index + 1, 1, len(line) + 1)
        if re.match(_VALID_BREAKING, line):
            if index < message.footer_start:
                why = "a breaking-change footer must start a paragraph: put a blank line before it"
                problems.append(Problem("breaking-change-footer", why, *span, f"\\n{example}"))
        elif _looks_like_breaking_footer(match.group(), rest):
            why = "malformed breaking-change footer: write `BREAKING CHANGE: <description>`"
            problems.append(Problem("breaking-change-footer", why, *span, example))
    return problems


def _looks_like_breaking_footer(words: str, rest: str) -> bool:
    """`Breaking change: x`, `BREAKING CHANGES - x`, `BREAKING CHANGE` alone, but not prose."""
    return not rest.strip() or rest.lstrip()[:1] in ":#-=>" or words.isupper()


def _ticket_problems(
    message: Message, header: Header | None, config: Config, *, title: bool = False
) -> list[Problem]:
    rule = config.ticket
    if rule is None or (rule.types and (header is None or header.type.lower() not in rule.types)):
        return []
    where = rule.where
    if title:
        if where in ("body", "footer"):
            return []  # a PR title has neither
        where = "header"
    areas = {
        "header": message.header,
        "body": message.body,
        "footer": "\n".join(message.lines[message.footer_start :]),
        "anywhere": "\n".join(message.lines),
    }
    if re.search(rule.pattern, areas[where]):
        return []
    why = f"no ticket reference matching `{rule.pattern}` in the {where}"
    example = (
        "Refs: ABC-123"
        if where in ("footer", "body", "anywhere")
        else (f"{message.header} (ABC-123)")
    )
    return [Problem("ticket-required", why, 1 if where == "header" else 0, 0, 0, example)]


# --- findings for the engine -----------------------------------------------------------------


def commit_findings(change: Change, config: Config) -> list[Finding]:
    """`commit-message` findings for a change's commits (merges skipped) and its PR title."""
    findings: list[Finding] = []
    for commit in change.commits:
        if commit.is_merge:
            continue
        for problem in lint_message(commit.message, config, comment_char=""):
            findings.append(_finding(problem, f"commit {commit.sha[:12]}", commit.sha))
    if config.pr_title and change.forge != "local" and change.title:
        findings += [_finding(p, "PR title", "") for p in lint_title(change.title, config)]
    return findings


def _finding(problem: Problem, where: str, sha: str) -> Finding:
    from gitops_health.rules.report import Finding

    example = f" (e.g. `{problem.example}`)" if problem.example else ""
    return Finding(
        kind="commit-message",
        rule=problem.rule,
        message=f"{where}: {problem.message}{example}",
        line=problem.line,
        column=problem.column,
        end_column=problem.end_column,
        commit=sha,
    )
