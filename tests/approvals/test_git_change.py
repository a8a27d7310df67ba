"""build_change on real temporary repositories: files, commits, signatures, base-side files."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from approvals_support import git

from gitops_health.hooks.git_change import GitError, build_change
from gitops_health.rules.change import AddedLine, FileStatus


@pytest.fixture(scope="session")
def ssh_keys(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("keys")
    keys = {}
    for name in ("alice", "mallory"):
        path = folder / name
        subprocess.run(
            ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", name, "-f", str(path)],
            check=True,
        )
        keys[name] = path
    return keys


def signer_line(email: str, key: Path) -> str:
    return f'{email} namespaces="git" {key.with_suffix(".pub").read_text().strip()}\n'


def write(repo: Path, path: str, content: str | bytes) -> None:
    target = repo / path
    target.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, bytes):
        target.write_bytes(content)
    else:
        target.write_text(content)


def commit_all(repo: Path, message: str, *extra: str) -> None:
    git(repo, "add", "-A")
    git(repo, *extra, "commit", "-q", "-m", message)


def test_files_with_status_lines_and_binary(repo: Path) -> None:
    write(repo, "src/app.py", "a = 1\nb = 2\nc = 3\n")
    write(repo, "docs/old.md", "".join(f"line {i}\n" for i in range(20)))
    write(repo, "gone.txt", "bye\n")
    commit_all(repo, "chore: base files")
    git(repo, "switch", "-q", "-c", "feature/x")
    write(repo, "src/app.py", "a = 1\nb = 20\nc = 3\nd = 4\n")
    git(repo, "mv", "docs/old.md", "docs/new.md")
    (repo / "gone.txt").unlink()
    write(repo, "img.png", b"\x89PNG\x00\x01\x02")
    write(repo, "weird.txt", "++ starts like a header\n")
    commit_all(repo, "feat: change things", "-c", "user.name=Bob", "-c", "user.email=bob@x.org")

    change = build_change(repo, "main", "HEAD", with_history=False)

    files = {f.path: f for f in change.files}
    assert set(files) == {"src/app.py", "docs/new.md", "gone.txt", "img.png", "weird.txt"}
    app = files["src/app.py"]
    assert (app.status, app.additions, app.deletions) == (FileStatus.MODIFIED, 2, 1)
    assert app.added_lines == (AddedLine(2, "b = 20"), AddedLine(4, "d = 4"))
    renamed = files["docs/new.md"]
    assert (renamed.status, renamed.previous_path) == (FileStatus.RENAMED, "docs/old.md")
    assert files["gone.txt"].status is FileStatus.REMOVED
    assert files["img.png"].binary and files["img.png"].added_lines == ()
    assert files["weird.txt"].added_lines == (AddedLine(1, "++ starts like a header"),)
    assert (change.base_ref, change.head_ref) == ("main", "feature/x")
    assert change.head_sha == git(repo, "rev-parse", "HEAD").strip()
    assert change.base_sha == git(repo, "rev-parse", "main").strip()
    (only,) = change.commits
    assert only.author.email == "bob@x.org" and only.committer.name == "Bob"
    assert only.signature.status == "N"
    assert change.author.email == "bob@x.org"
    assert (change.title, change.description) == ("feat: change things", "")
    assert change.history is None


def test_commits_oldest_first_and_merge_base_diff(repo: Path) -> None:
    git(repo, "switch", "-q", "-c", "topic")
    write(repo, "a.txt", "1\n")
    commit_all(repo, "feat: one", "-c", "user.email=first@x.org")
    write(repo, "b.txt", "2\n")
    commit_all(repo, "feat: two\n\nbody text")
    git(repo, "switch", "-q", "main")
    write(repo, "main-only.txt", "later on main\n")
    commit_all(repo, "chore: main moves on")

    change = build_change(repo, "main", "topic", with_history=False)

    assert [c.subject for c in change.commits] == ["feat: one", "feat: two"]
    assert change.commits[1].message == "feat: two\n\nbody text"
    assert change.author.email == "first@x.org"
    assert change.title == "topic"  # several commits: the branch name, as a forge proposes
    assert change.paths == ("a.txt", "b.txt")  # not main-only.txt: the diff is from the fork


def test_base_side_files_and_signatures(repo: Path, ssh_keys: dict[str, Path]) -> None:
    write(repo, ".github/CODEOWNERS", "* @acme/everyone\n")
    write(
        repo, ".gitops-health/allowed_signers", signer_line("alice@example.com", ssh_keys["alice"])
    )
    write(repo, ".gitops-health.yml", "signing: {required: true}\n")
    commit_all(repo, "chore: policy")
    git(repo, "config", "gpg.format", "ssh")
    git(repo, "config", "log.showSignature", "true")  # must not leak into the parsed log
    git(repo, "switch", "-q", "-c", "signed")
    write(repo, "a.txt", "1\n")
    commit_all(repo, "feat: signed", "-c", f"user.signingkey={ssh_keys['alice']}", "-c",
               "commit.gpgsign=true")  # fmt: skip
    # the branch tries to widen the rules: neither change may count for this change
    write(repo, ".github/CODEOWNERS", "* @mallory\n")
    with (repo / ".gitops-health/allowed_signers").open("a") as handle:
        handle.write(signer_line("alice@example.com", ssh_keys["mallory"]))
    commit_all(repo, "feat: by mallory", "-c", f"user.signingkey={ssh_keys['mallory']}", "-c",
               "commit.gpgsign=true")  # fmt: skip

    change = build_change(repo, "main", "signed", with_history=False)

    alice, mallory = change.commits
    assert (alice.signature.status, alice.signature.signer) == ("G", "alice@example.com")
    assert alice.signature.format == "ssh" and alice.signature.key.startswith("SHA256:")
    assert mallory.signature.status != "G"
    assert change.codeowners == "* @acme/everyone\n"
    assert set(change.base_files) == {".gitops-health/allowed_signers", ".gitops-health.yml"}
    assert "mallory" not in change.base_files[".gitops-health/allowed_signers"]


def test_history_is_filled_from_the_clone(repo: Path) -> None:
    write(repo, "src/app.py", "x = 1\n")
    commit_all(repo, "fix: first")
    git(repo, "switch", "-q", "-c", "more")
    write(repo, "src/app.py", "x = 2\ny = 3\n")
    commit_all(repo, "feat: more")

    change = build_change(repo, "main", "more")

    assert change.history is not None
    assert [f.path for f in change.history.files] == ["src/app.py"]
    assert change.files[0].lines_before == 1


def test_unknown_revisions_are_clear_errors(repo: Path, tmp_path: Path) -> None:
    with pytest.raises(GitError, match="unknown revision 'nope'"):
        build_change(repo, "nope", "HEAD")
    other = tmp_path / "other"
    other.mkdir()
    git(other, "init", "-q")
    write(other, "z", "z\n")
    commit_all(other, "chore: unrelated")
    git(repo, "fetch", "-q", str(other), "main:unrelated")
    with pytest.raises(GitError, match="no common history"):
        build_change(repo, "main", "unrelated")
