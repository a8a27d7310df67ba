"""`gitops-health commit-msg FILE`: main() on real files in real git repositories."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from testkit import git

from gitops_health.cli import main as cli_main
from gitops_health.hooks.commit_msg import main

BIN = Path(sys.executable).parent


@pytest.fixture
def in_repo(repo: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(repo)
    return repo


def write(path: Path, content: str | bytes) -> str:
    path.write_bytes(content if isinstance(content, bytes) else content.encode())
    return str(path)


def test_accepts_a_good_message(in_repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main([write(in_repo / "msg", "feat(api): add login\n\nbody\n")]) == 0
    assert capsys.readouterr().out == ""


def test_rejects_with_one_line_per_problem(
    in_repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(in_repo / "msg", "Feat: Add login.\n")
    assert main([path]) == 1
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert "(3 problems)" in lines[0]
    assert "    1 | Feat: Add login." in lines
    problem_lines = [line for line in lines if "^" in line]
    assert len(problem_lines) == 3
    assert problem_lines[0] == (
        "      | ^^^^ type-case: type `Feat` must be lower-case  e.g. `feat: Add login.`"
    )
    assert problem_lines[1].startswith("      |       ^^^ subject-case:")
    assert problem_lines[2].startswith("      |                ^ subject-full-stop:")
    assert "  corrected header: feat: add login" in lines
    assert f"git commit --edit --file={path}" in out
    assert "--verbose" in out


def test_verbose_explains_and_names_the_config_key(
    in_repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["--verbose", write(in_repo / "msg", "feature: x\n")]) == 1
    out = capsys.readouterr().out
    assert "type must be one of the types the policy allows" in out
    assert "`commit_msg.types`" in out


def test_body_problems_point_at_their_line(
    in_repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main([write(in_repo / "msg", "fix: x\n\nbody\n\nBreaking change: y\n")]) == 1
    out = capsys.readouterr().out
    assert "    5 | Breaking change: y" in out
    assert "breaking-change-footer" in out and "e.g. `BREAKING CHANGE: y`" in out


def test_empty_and_comment_only_messages_are_rejected(
    in_repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main([write(in_repo / "msg", "")]) == 1
    assert main([write(in_repo / "msg", "# Please enter the commit message\n#\n")]) == 1
    assert capsys.readouterr().out.count("message-empty") == 2


def test_non_utf8_input_is_decoded_leniently(
    in_repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main([write(in_repo / "msg", b"fix: caf\xe9 cr\xe8me\n")]) == 0
    assert main([write(in_repo / "msg", b"Fix: \xff\xfe\n")]) == 1
    assert "type-case" in capsys.readouterr().out


def test_crlf_message_file(in_repo: Path) -> None:
    assert main([write(in_repo / "msg", "fix: x\r\n\r\nbody\r\n")]) == 0


def test_huge_body(in_repo: Path) -> None:
    body = "".join(f"line {i} of a very long body\n" for i in range(100_000))
    assert main([write(in_repo / "msg", f"fix: x\n\n{body}")]) == 0


def test_missing_file_is_a_clear_error(in_repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main([str(in_repo / "absent")]) == 1
    assert "cannot read" in capsys.readouterr().out


def test_git_comment_char_is_honoured(in_repo: Path) -> None:
    message = "fix: x\n\n#123 is the issue\n; Please enter the commit message\n"
    git(in_repo, "config", "core.commentChar", ";")
    assert main([write(in_repo / "msg", message)]) == 0
    git(in_repo, "config", "core.commentChar", "#")
    assert main([write(in_repo / "msg", "#123 fixed\nfix: x\n")]) == 0
    git(in_repo, "config", "--unset", "core.commentChar")
    assert main([write(in_repo / "msg", "; a\nfix: x\n")]) == 1


def test_policy_file_at_the_repo_root_is_read_from_a_subdirectory(
    repo: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    (repo / ".gitops-health.yml").write_text("commit_msg:\n  types: [wip]\n")
    (repo / "sub").mkdir()
    monkeypatch.chdir(repo / "sub")
    assert main([write(repo / "msg", "wip: x\n")]) == 0
    assert main([write(repo / "msg", "feat: x\n")]) == 1
    assert "use one of: wip" in capsys.readouterr().out


def test_other_sections_do_not_slow_or_break_the_hook(in_repo: Path) -> None:
    (in_repo / ".gitops-health.yml").write_text("phi:\n  enabled: true\nrisk: {}\n")
    assert main([write(in_repo / "msg", "fix: x\n")]) == 0


def test_invalid_policy_blocks_with_path_and_line(
    in_repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (in_repo / ".gitops-health.yml").write_text("commit_msg:\n  tyeps: [feat]\n")
    assert main([write(in_repo / "msg", "feat: x\n")]) == 1
    out = capsys.readouterr().out
    assert ".gitops-health.yml:2: commit_msg.tyeps: unknown key" in out
    assert "gitops-health policy validate" in out


def test_explicit_config_option(in_repo: Path, tmp_path: Path) -> None:
    policy = tmp_path / "policy.yml"
    policy.write_text("commit_msg:\n  required_trailers: [Signed-off-by]\n")
    path = write(in_repo / "msg", "fix: x\n")
    assert main([path]) == 0
    assert main(["--config", str(policy), path]) == 1


def test_missing_explicit_config_is_an_error(
    in_repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["--config", "absent.yml", write(in_repo / "msg", "fix: x\n")]) == 1
    assert "cannot read the policy absent.yml" in capsys.readouterr().out


def test_outside_a_git_repository(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path.parent))
    assert main([write(tmp_path / "msg", "fix: x\n")]) == 0


def test_dispatcher_runs_the_hook(in_repo: Path) -> None:
    assert cli_main(["commit-msg", write(in_repo / "msg", "fix: x\n")]) == 0
    assert cli_main(["commit-msg", write(in_repo / "msg", "nope\n")]) == 1


# --- through real `git commit` with the hook installed as .git/hooks/commit-msg ------------


def _install_hook(repo: Path) -> None:
    hook = repo / ".git" / "hooks" / "commit-msg"
    hook.write_text(f'#!/bin/sh\nexec "{BIN / "gitops-health-commit-msg"}" "$1"\n')
    hook.chmod(hook.stat().st_mode | stat.S_IEXEC)


def _commit(repo: Path, *args: str, editor: str = "true") -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "GIT_EDITOR": editor}
    return subprocess.run(
        ["git", "commit", "--allow-empty", *args],
        cwd=repo,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )


def test_real_git_commit_with_auto_comment_char(repo: Path) -> None:
    _install_hook(repo)
    git(repo, "config", "core.commentChar", "auto")
    done = _commit(repo, "-e", "-m", "fix: handle it", "-m", "#123 is the issue")
    assert done.returncode == 0, done.stdout + done.stderr
    assert git(repo, "log", "-1", "--format=%B").strip() == "fix: handle it\n\n#123 is the issue"
    blocked = _commit(repo, "-e", "-m", "Handle it", "-m", "#123 is the issue")
    assert blocked.returncode == 1
    assert "header-format" in blocked.stdout + blocked.stderr


def test_real_git_commit_verbose_diff_is_cut_at_the_scissors(repo: Path) -> None:
    _install_hook(repo)
    (repo / ".gitops-health.yml").write_text("commit_msg:\n  body_max_line_length: 40\n")
    (repo / "wide.txt").write_text("w" * 300 + "\n")
    git(repo, "add", ".")
    done = _commit(repo, "-v", "-e", "-m", "chore: add a wide file")
    assert done.returncode == 0, done.stdout + done.stderr
    assert git(repo, "log", "-1", "--format=%B").strip() == "chore: add a wide file"


def test_help_exits_0(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["--help"])
    assert exc.value.code == 0
    assert "usage: gitops-health commit-msg" in capsys.readouterr().out
