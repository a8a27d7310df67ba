"""`gitops-health verify-push` on real repos, real GPG/SSH signatures and real pushes."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from signing_env import (  # noqa: F401  (fixtures)
    ZERO,
    Keyrings,
    Keys,
    commit,
    git,
    gpg,
    install_plain_hook,
    install_pre_commit,
    keyrings_fixture,
    keys_fixture,
    new_repo,
    push,
    tamper,
    write_allowed_signers,
    write_policy,
)

from gitops_health.hooks import verify_push
from gitops_health.hooks.verify_push import RefUpdate, parse_pre_push, updates_from_pre_commit

PRE_COMMIT_VARS = ("PRE_COMMIT_LOCAL_BRANCH", "PRE_COMMIT_REMOTE_BRANCH", "PRE_COMMIT_REMOTE_NAME")


@pytest.fixture
def work(tmp_path: Path, keyrings: Keyrings, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty clone of a bare `origin`, as the current directory."""
    repo = new_repo(tmp_path / "work")
    monkeypatch.chdir(repo)
    for name in PRE_COMMIT_VARS:
        monkeypatch.delenv(name, raising=False)
    return repo


def pushed(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    *lines: tuple[str, str, str, str],
) -> tuple[int, str]:
    """Run the hook as git's pre-push would: remote name and URL, ref lines on stdin."""
    stdin = "".join(" ".join(line) + "\n" for line in lines)
    monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    code = verify_push.main(["origin", "/remote.git"])
    captured = capsys.readouterr()
    return code, captured.out + captured.err


def new_branch(ref: str, sha: str) -> tuple[str, str, str, str]:
    return (ref, sha, ref, ZERO)


def publish(repo: Path, branch: str = "main") -> str:
    """Push without hooks, so later commits are the new ones; returns the pushed id."""
    git(repo, "push", "-q", "--no-verify", "origin", f"HEAD:refs/heads/{branch}")
    git(repo, "fetch", "-q", "origin")
    return git(repo, "rev-parse", "HEAD").strip()


def test_unsigned_commit_is_blocked_with_sha_subject_status_and_fix(work, monkeypatch, capsys):
    root = commit(work, "chore: root")
    sha = commit(work, "feat: unsigned work")
    code, out = pushed(monkeypatch, capsys, new_branch("refs/heads/main", sha))
    assert code == 1
    assert sha[:12] in out and "feat: unsigned work" in out and root[:12] in out
    assert "N: no signature" in out
    assert "git config commit.gpgsign true" in out
    assert "git rebase --exec 'git commit --amend --no-edit -S' --root" in out


def test_gpg_good_signature_passes(work, keys: Keys, monkeypatch, capsys):
    sha = commit(work, "feat: signed", gpg_key=keys.alice_gpg.fingerprint)
    assert pushed(monkeypatch, capsys, new_branch("refs/heads/main", sha)) == (0, "")


def test_gpg_unknown_key_cannot_be_checked(work, keys, keyrings, monkeypatch, capsys):
    sha = commit(
        work, "feat: by carol", gpg_key=keys.carol_gpg.fingerprint, gnupg_home=keyrings.carol(),
        committer="Carol Example:carol@example.com",
    )  # fmt: skip
    code, out = pushed(monkeypatch, capsys, new_branch("refs/heads/main", sha))
    assert code == 1
    assert "E: the signature cannot be checked" in out and "gpg --import" in out


def test_gpg_untrusted_key_is_u_and_accepted_only_when_configured(
    work, keys, keyrings, monkeypatch, capsys
):
    sha = commit(
        work, "feat: by carol", gpg_key=keys.carol_gpg.fingerprint, gnupg_home=keyrings.carol(),
        committer="Carol Example:carol@example.com",
    )  # fmt: skip
    gpg(Path(keyrings.used[0]), "--import", input=keys.carol_gpg.public)
    code, out = pushed(monkeypatch, capsys, new_branch("refs/heads/main", sha))
    assert code == 1 and "U: good signature, but the key's validity is unknown" in out
    assert "gpg --lsign-key" in out
    write_policy(work, "signing:\n  accept_unknown_validity: true\n")
    assert pushed(monkeypatch, capsys, new_branch("refs/heads/main", sha)) == (0, "")


def test_ssh_good_signature_with_repo_allowed_signers(work, keys, monkeypatch, capsys):
    write_allowed_signers(work, keys.alice_ssh.signer_line("alice@example.com"))
    sha = commit(work, "feat: ssh signed", ssh_key=keys.alice_ssh)
    assert pushed(monkeypatch, capsys, new_branch("refs/heads/main", sha)) == (0, "")


def test_ssh_allowed_signers_file_path_from_policy(work, keys, monkeypatch, capsys):
    (work / "signers").write_text(keys.alice_ssh.signer_line("alice@example.com") + "\n")
    write_policy(work, "signing:\n  allowed_signers_file: signers\n")
    sha = commit(work, "feat: ssh signed", ssh_key=keys.alice_ssh)
    assert pushed(monkeypatch, capsys, new_branch("refs/heads/main", sha)) == (0, "")


def test_ssh_git_config_allowed_signers_file_is_honoured(work, keys, tmp_path, monkeypatch, capsys):
    signers = tmp_path / "my_allowed_signers"
    signers.write_text(keys.alice_ssh.signer_line("alice@example.com") + "\n")
    git(work, "config", "gpg.ssh.allowedSignersFile", str(signers))
    sha = commit(work, "feat: ssh signed", ssh_key=keys.alice_ssh)
    assert pushed(monkeypatch, capsys, new_branch("refs/heads/main", sha)) == (0, "")


def test_ssh_key_not_in_allowed_signers_is_blocked(work, keys, monkeypatch, capsys):
    write_allowed_signers(work, keys.alice_ssh.signer_line("alice@example.com"))
    sha = commit(work, "feat: bob's key", ssh_key=keys.bob_ssh)
    code, out = pushed(monkeypatch, capsys, new_branch("refs/heads/main", sha))
    assert code == 1
    assert "U: good signature" in out and "not in .gitops-health/allowed_signers" in out
    assert 'namespaces=\\"git\\"' in out and ">> .gitops-health/allowed_signers" in out


def test_ssh_signature_without_any_allowed_signers_file_explains_the_n(
    work, keys, monkeypatch, capsys
):
    sha = commit(work, "feat: ssh signed", ssh_key=keys.alice_ssh)
    code, out = pushed(monkeypatch, capsys, new_branch("refs/heads/main", sha))
    assert code == 1 and "N: no signature" in out
    assert "cannot be verified without an allowed-signers file" in out


def test_ssh_signer_other_than_committer_is_blocked_although_git_says_g(
    work, keys, monkeypatch, capsys
):
    write_allowed_signers(
        work, keys.alice_ssh.signer_line("alice@example.com"),
        keys.bob_ssh.signer_line("bob@example.com"),
    )  # fmt: skip
    sha = commit(work, "feat: alice commits with bob's key", ssh_key=keys.bob_ssh)
    code, out = pushed(monkeypatch, capsys, new_branch("refs/heads/main", sha))
    assert code == 1
    assert "G: good signature" in out
    assert "signed by bob@example.com, but committed by alice@example.com" in out


def test_gpg_signer_other_than_committer_is_blocked(work, keys, monkeypatch, capsys):
    sha = commit(
        work, "feat: bob commits with alice's key", gpg_key=keys.alice_gpg.fingerprint,
        committer="Bob:bob@example.com",
    )  # fmt: skip
    code, out = pushed(monkeypatch, capsys, new_branch("refs/heads/main", sha))
    assert code == 1 and "but committed by bob@example.com" in out


def test_tampered_commit_has_a_bad_signature(work, keys, monkeypatch, capsys):
    signed = commit(work, "feat: signed", gpg_key=keys.alice_gpg.fingerprint)
    forged = tamper(work, signed)
    code, out = pushed(monkeypatch, capsys, new_branch("refs/heads/main", forged))
    assert code == 1 and forged[:12] in out and "B: bad signature" in out


def test_every_ref_of_a_multi_ref_push_is_checked(work, keys, monkeypatch, capsys):
    good = commit(work, "feat: signed", gpg_key=keys.alice_gpg.fingerprint)
    publish(work)
    git(work, "checkout", "-q", "-b", "topic")
    bad = commit(work, "feat: unsigned on topic")
    git(work, "checkout", "-q", "main")
    also_good = commit(work, "fix: signed on main", gpg_key=keys.alice_gpg.fingerprint)
    code, out = pushed(
        monkeypatch, capsys, ("refs/heads/main", also_good, "refs/heads/main", good),
        new_branch("refs/heads/topic", bad),
    )  # fmt: skip
    assert code == 1
    assert "refs/heads/topic → refs/heads/topic: 1 of 1 new commit(s)" in out
    assert "refs/heads/main →" not in out and also_good[:12] not in out


def test_new_branch_checks_only_commits_the_remote_lacks(work, keys, monkeypatch, capsys):
    commit(work, "chore: old unsigned history")
    publish(work)
    git(work, "checkout", "-q", "-b", "feature")
    sha = commit(work, "feat: signed", gpg_key=keys.alice_gpg.fingerprint)
    assert pushed(monkeypatch, capsys, new_branch("refs/heads/feature", sha)) == (0, "")


def test_root_commit_is_checked_and_resign_starts_at_root(work, keys, monkeypatch, capsys):
    root = commit(work, "chore: unsigned root")
    head = commit(work, "feat: signed", gpg_key=keys.alice_gpg.fingerprint)
    code, out = pushed(monkeypatch, capsys, new_branch("refs/heads/main", head))
    assert code == 1 and root[:12] in out and "1 of 2 new commit(s)" in out
    assert "--amend --no-edit -S' --root" in out


def test_unsigned_merge_commit_blocked_unless_allowed(work, keys, monkeypatch, capsys):
    key = keys.alice_gpg.fingerprint
    base = commit(work, "chore: base", gpg_key=key)
    publish(work)
    git(work, "checkout", "-q", "-b", "topic")
    commit(work, "feat: topic", gpg_key=key)
    git(work, "checkout", "-q", "main")
    commit(work, "fix: main", gpg_key=key)
    git(work, "merge", "-q", "--no-gpg-sign", "--no-edit", "topic")
    merge = git(work, "rev-parse", "HEAD").strip()
    line = ("refs/heads/main", merge, "refs/heads/main", base)
    code, out = pushed(monkeypatch, capsys, line)
    assert code == 1 and "Merge branch 'topic'" in out and "1 of 3 new commit(s)" in out
    write_policy(work, "signing:\n  allow_unsigned_merges: true\n")
    assert pushed(monkeypatch, capsys, line) == (0, "")


def test_deletion_push_checks_nothing(work, monkeypatch, capsys):
    commit(work, "chore: unsigned")
    remote = publish(work, "old")
    assert pushed(monkeypatch, capsys, ("(delete)", ZERO, "refs/heads/old", remote)) == (0, "")


def test_exempt_bot_identity_and_gpg_fingerprint_allow_list(work, keys, monkeypatch, capsys):
    bot = commit(work, "chore(deps): bump", committer="renovate[bot]:bot@renovateapp.com")
    signed = commit(work, "feat: signed", gpg_key=keys.alice_gpg.fingerprint)
    write_policy(work, "signing:\n  exempt_identities: ['*@renovateapp.com']\n")
    assert pushed(monkeypatch, capsys, new_branch("refs/heads/main", signed)) == (0, "")
    policy = "signing:\n  exempt_identities: ['*@renovateapp.com']\n  gpg_fingerprints: [{}]\n"
    write_policy(work, policy.format("A" * 40))
    code, out = pushed(monkeypatch, capsys, new_branch("refs/heads/main", signed))
    assert code == 1 and "not in signing.gpg_fingerprints" in out and "1 of 2" in out
    assert f"{bot[:12]}  chore(deps)" not in out
    write_policy(work, policy.format(keys.alice_gpg.fingerprint[-16:].lower()))
    assert pushed(monkeypatch, capsys, new_branch("refs/heads/main", signed)) == (0, "")


def test_invalid_policy_is_a_clear_error_not_a_traceback(work, monkeypatch, capsys):
    sha = commit(work, "chore: x")
    write_policy(work, "signing:\n  acept_unknown_validity: true\n")
    code, out = pushed(monkeypatch, capsys, new_branch("refs/heads/main", sha))
    assert code == 2 and "signing.acept_unknown_validity: unknown key" in out
    assert "Traceback" not in out


def test_malformed_stdin_is_reported(work, monkeypatch, capsys):
    monkeypatch.setattr("sys.stdin", io.StringIO("only three fields\n"))
    assert verify_push.main(["origin", "url"]) == 2
    assert "unexpected pre-push input line" in capsys.readouterr().err


# --- pre-commit framework mode (env vars instead of stdin) ---------------------------------


def test_pre_commit_from_to_range(work, keys, monkeypatch, capsys):
    commit(work, "chore: pushed", gpg_key=keys.alice_gpg.fingerprint)
    old = publish(work)
    new = commit(work, "feat: unsigned")
    monkeypatch.setenv("PRE_COMMIT_FROM_REF", old)
    monkeypatch.setenv("PRE_COMMIT_TO_REF", new)
    monkeypatch.setenv("PRE_COMMIT_REMOTE_NAME", "origin")
    assert verify_push.main([]) == 1
    out = capsys.readouterr().out
    assert new[:12] in out and old[:12] in out  # old is the rebase base, not a flagged commit
    assert "1 of 1 new commit(s)" in out


def test_pre_commit_root_commit_push_has_only_the_branch(work, monkeypatch, capsys):
    root = commit(work, "chore: unsigned root")
    monkeypatch.setenv("PRE_COMMIT_LOCAL_BRANCH", "refs/heads/main")
    monkeypatch.setenv("PRE_COMMIT_REMOTE_BRANCH", "refs/heads/main")
    monkeypatch.setenv("PRE_COMMIT_REMOTE_NAME", "origin")
    assert verify_push.main([]) == 1
    assert root[:12] in capsys.readouterr().out


def test_ref_update_parsing() -> None:
    one, two = "1" * 40, "2" * 40
    lines = f"refs/heads/a {one} refs/heads/a {ZERO}\n(delete) {ZERO} refs/heads/b {two}\n"
    assert parse_pre_push(lines) == [RefUpdate("refs/heads/a", "1" * 40, "refs/heads/a", ZERO)]
    assert updates_from_pre_commit({}) is None
    env = {"PRE_COMMIT_FROM_REF": "a", "PRE_COMMIT_TO_REF": "b"}
    assert updates_from_pre_commit(env) == [RefUpdate("b", "b", "", "a")]


# --- real `git push` through installed hooks ------------------------------------------------


def test_plain_git_hook_blocks_a_push_and_checks_every_ref(work, keys):
    key = keys.alice_gpg.fingerprint
    commit(work, "chore: base", gpg_key=key)
    publish(work)
    install_plain_hook(work)
    git(work, "branch", "topic")
    commit(work, "feat: signed", gpg_key=key)
    git(work, "checkout", "-q", "topic")
    bad = commit(work, "feat: unsigned")
    result = push(work, "main", "topic")
    assert result.returncode != 0
    assert bad[:12] in result.stdout and "refs/heads/topic" in result.stdout
    assert "topic" not in git(work, "ls-remote", "origin")
    git(work, "commit", "-q", "--amend", "--allow-empty", "--no-edit", f"--gpg-sign={key}")
    push(work, "main", "topic", check=True)
    push(work, "--delete", "topic", check=True)


@pytest.mark.slow
def test_pre_commit_installed_hook_blocks_unsigned_push(work, keys):
    install_pre_commit(work, "signed-commits", "pre-push")
    key = keys.alice_gpg.fingerprint
    root = commit(work, "chore: unsigned root")
    result = push(work, "main")  # a root commit: pre-commit passes no FROM/TO refs
    assert result.returncode != 0 and root[:12] in result.stdout + result.stderr
    git(work, "commit", "-q", "--amend", "--allow-empty", "--no-edit", f"--gpg-sign={key}")
    push(work, "main", check=True)
    bad = commit(work, "feat: unsigned")
    result = push(work, "main")  # an update: FROM/TO refs
    assert result.returncode != 0 and bad[:12] in result.stdout + result.stderr
    assert "N: no signature" in result.stdout + result.stderr
    git(work, "commit", "-q", "--amend", "--allow-empty", "--no-edit", f"--gpg-sign={key}")
    push(work, "main", check=True)


@pytest.mark.slow
def test_pre_commit_sees_only_the_first_ref_of_a_push(work, keys):
    """The documented limitation: pre-commit hands hooks one ref; the plain hook sees all."""
    install_pre_commit(work, "signed-commits", "pre-push")
    key = keys.alice_gpg.fingerprint
    commit(work, "chore: base", gpg_key=key)
    git(work, "push", "-q", "--no-verify", "origin", "main")
    git(work, "branch", "zzz")
    commit(work, "feat: signed", gpg_key=key)
    git(work, "checkout", "-q", "zzz")
    commit(work, "feat: unsigned on the second ref")
    result = push(work, "main", "zzz")
    assert result.returncode == 0, result.stdout + result.stderr
