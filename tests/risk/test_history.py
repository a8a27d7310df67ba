"""History figures from a real temporary git repository."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path

import pytest
from testkit import git

from gitops_health.rules.change import FileChange, FileStatus, Identity
from gitops_health.rules.history import HistoryUnavailable, compute_history, lines_before

DAY0 = datetime(2024, 1, 1, tzinfo=UTC)
BOB = ("Bob", "bob@example.com")


def commit_as(
    repo: Path, who: tuple[str, str], day: int, message: str, files: dict[str, str]
) -> None:
    for name, text in files.items():
        path = repo / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        git(repo, "add", str(path))
    stamp = f"{int(DAY0.timestamp()) + day * 86400} +0000"
    env = {"GIT_AUTHOR_NAME": who[0], "GIT_AUTHOR_EMAIL": who[1], "GIT_AUTHOR_DATE": stamp}
    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    try:
        git(repo, "commit", "-q", "-m", message)
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key)
            else:
                os.environ[key] = value


@pytest.fixture
def project(repo: Path) -> Path:
    """api/ by Alice (3 commits, one a fix), web/ by Bob; README from the `repo` fixture."""
    alice = ("Alice Example", "alice@example.com")
    commit_as(repo, alice, 1, "feat(api): server", {"api/server.py": "a\nb\n"})
    commit_as(repo, alice, 5, "fix(api): crash", {"api/server.py": "a\nb\nc\n", "api/db.py": "x\n"})
    commit_as(repo, BOB, 8, "feat(web): page", {"web/page.js": "p\n"})
    commit_as(repo, alice, 10, "docs: notes", {"api/NOTES.md": "n\n"})
    return repo


def test_file_and_author_figures(project: Path) -> None:
    files = [
        FileChange("api/server.py", additions=2),
        FileChange("web/new.js", status=FileStatus.ADDED, additions=9),
    ]
    now = datetime(2024, 1, 13, tzinfo=UTC)  # 8 days after day 5
    history = compute_history(project, "HEAD", files, Identity(email="Alice@Example.com"), now)
    server, new = history.files
    assert (server.changes, server.fixes, server.authors) == (2, 1, ("alice@example.com",))
    assert server.age_days == pytest.approx(7.0)  # last changed on day 5, now is day 12
    assert new.changes == 0 and new.age_days is None
    author = history.author
    assert author is not None
    assert author.experience == 4  # 3 commits here + the `repo` fixture's initial commit
    assert author.file_changes == 5  # README, server, server+db, NOTES
    assert author.subsystem_experience == 3  # commits touching api/ or web/
    assert author.first_change_in_subsystems == ("web",)
    assert author.subsystem_files == 4  # api/server, api/db, api/NOTES + web/new.js
    assert 0 < author.recent_file_changes < author.file_changes
    assert history.unique_prior_changes == 2
    assert len(history.base_sha) == 40


def test_history_is_as_of_the_base(project: Path) -> None:
    files = [FileChange("web/page.js")]
    older = compute_history(project, "HEAD~2", files, Identity(email=BOB[1]))
    assert older.files[0].changes == 0 and older.author.experience == 0


def test_renamed_file_uses_its_previous_path(project: Path) -> None:
    moved = FileChange("api/database.py", status=FileStatus.RENAMED, previous_path="api/db.py")
    history = compute_history(project, "HEAD", [moved], Identity(email=BOB[1]))
    assert history.files[0].path == "api/database.py" and history.files[0].changes == 1


def test_lines_before(project: Path) -> None:
    assert lines_before(project, "HEAD", ["api/server.py", "missing.txt"]) == {"api/server.py": 3}


def test_bad_repository_or_revision_is_a_clear_error(project: Path, tmp_path: Path) -> None:
    with pytest.raises(HistoryUnavailable, match="unknown revision 'nope'"):
        compute_history(project, "nope", [], Identity())
    with pytest.raises(HistoryUnavailable, match="not a git repository"):
        compute_history(tmp_path / "absent", "HEAD", [], Identity())
