"""Re-evaluating every open PR: `gitops-health bot reconcile` on each forge, and GitHub App
installation events, both through the durable delivery path."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from bitbucket_fakes import FakeBitbucketCloud, FakeBitbucketServer, serve
from github_fake import FakeGitHub, PullData, RunningBot, commit_entry, file_entry, fixture_payload

from gitops_health.bot import cli
from gitops_health.bot import runtime as runtime_module
from gitops_health.bot.models import Delivery
from gitops_health.bot.settings import Settings
from gitops_health.bot.store import Target, _targets_from
from gitops_health.bot.worker import process_delivery

INSTALLATION = fixture_payload("installation.created.payload.json")


def queued_targets(settings: Settings) -> list[Target]:
    runtime = runtime_module.start(settings)
    try:
        with runtime.store.sessions() as session:
            rows = session.query(Delivery).order_by(Delivery.id).all()
            return [target for row in rows for target in _targets_from(row.targets)]
    finally:
        runtime.engine.dispose()


@pytest.fixture
def environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, str]]:
    env = {"GITOPS_HEALTH_DATA_DIR": str(tmp_path / "data")}
    monkeypatch.setenv("GITOPS_HEALTH_DATA_DIR", env["GITOPS_HEALTH_DATA_DIR"])
    yield env


def test_reconcile_bitbucket_cloud_queues_every_open_pr_and_they_get_evaluated(
    environment: dict[str, str], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    fake = FakeBitbucketCloud()  # two values per page: three open PRs take two pages
    fake.open_numbers = [7, 8, 9]
    with serve(fake):
        for name, value in {
            "GITOPS_HEALTH_BITBUCKET_CLOUD_WEBHOOK_SECRET": "cloud-secret",
            "GITOPS_HEALTH_BITBUCKET_CLOUD_TOKEN": "cloud-token",
            "GITOPS_HEALTH_BITBUCKET_CLOUD_API_URL": fake.base_url,
        }.items():
            monkeypatch.setenv(name, value)

        assert cli.main(["reconcile", "--forge", "bitbucket-cloud", "acme/payments"]) == 0
        assert "queued 3 open pull request(s)" in capsys.readouterr().out
        listing = fake.calls("GET", r"/repositories/acme/payments/pullrequests$")
        assert len(listing) == 2 and listing[0].query["state"] == ["OPEN"]
        settings = Settings.from_env()
        targets = queued_targets(settings)
        assert [(t.forge, t.owner, t.repo, t.number) for t in targets] == [
            ("bitbucket-cloud", "acme", "payments", n) for n in (7, 8, 9)
        ]
        runtime = runtime_module.start(settings)
        try:
            process_delivery(runtime, 1)  # PR 7, as a worker would
        finally:
            runtime.engine.dispose()
        assert len(fake.comments) == 1 and fake.statuses


def test_reconcile_bitbucket_data_center_pages_through_open_prs(
    environment: dict[str, str], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    fake = FakeBitbucketServer()  # one value per page
    fake.open_numbers = [3, 4]
    with serve(fake):
        for name, value in {
            "GITOPS_HEALTH_BITBUCKET_SERVER_WEBHOOK_SECRET": "server-secret",
            "GITOPS_HEALTH_BITBUCKET_SERVER_URL": fake.base_url,
            "GITOPS_HEALTH_BITBUCKET_SERVER_TOKEN": "server-token",
        }.items():
            monkeypatch.setenv(name, value)

        assert cli.main(["reconcile", "--forge", "bitbucket-server", "AT/atlantis-example"]) == 0
        assert "queued 2 open pull request(s)" in capsys.readouterr().out
        listing = fake.calls("GET", r"/repos/atlantis-example/pull-requests$")
        assert [call.query.get("start") for call in listing] == [None, ["1"]]
        assert all(call.query["state"] == ["OPEN"] for call in listing)
        targets = queued_targets(Settings.from_env())
        assert [t.number for t in targets] == [3, 4]


def test_reconcile_refuses_bad_names_and_unreachable_repositories(
    environment: dict[str, str], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    fake = FakeBitbucketServer()
    with serve(fake):
        monkeypatch.setenv("GITOPS_HEALTH_BITBUCKET_SERVER_WEBHOOK_SECRET", "server-secret")
        monkeypatch.setenv("GITOPS_HEALTH_BITBUCKET_SERVER_URL", fake.base_url)
        monkeypatch.setenv("GITOPS_HEALTH_BITBUCKET_SERVER_TOKEN", "server-token")

        assert cli.main(["reconcile", "--forge", "bitbucket-server", "AT/x/y", "AT"]) == 2
        assert "'AT/x/y' is not OWNER/REPO" in capsys.readouterr().err
        assert cli.main(["reconcile", "--forge", "bitbucket-server", "AT/missing"]) == 1
        error = capsys.readouterr().err
        assert "cannot list the open PRs of AT/missing" in error and "HTTP 404" in error
        assert cli.main(["reconcile", "--forge", "bitbucket-cloud", "acme/payments"]) == 2
        assert "bitbucket-cloud is not configured" in capsys.readouterr().err


def test_reconcile_github_queues_only_open_prs(
    bot_env: dict[str, str],
    open_pulls: list[PullData],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    for name, value in bot_env.items():
        monkeypatch.setenv(name, value)

    assert cli.main(["reconcile", "Codertocat/Hello-World"]) == 0

    assert "queued 2 open pull request(s)" in capsys.readouterr().out
    targets = queued_targets(Settings.from_env())
    assert [(t.forge, t.owner, t.repo, t.number) for t in targets] == [
        ("github", "Codertocat", "Hello-World", n) for n in (2, 5)
    ]


# -- GitHub App installation events ---------------------------------------------------------------


@pytest.fixture
def open_pulls(fake_github: FakeGitHub) -> list[PullData]:
    pulls = []
    for number, state in [(2, "open"), (5, "open"), (6, "closed")]:
        head = f"{number:040x}"
        pulls.append(
            fake_github.add_pull(
                PullData(
                    number,
                    head_sha=head,
                    base_sha="b" * 40,
                    state=state,
                    files=[file_entry("src/app.py", ["print('hello')"])],
                    commits=[commit_entry(head, "feat: say hello")],
                )
            )
        )
    return pulls


def installation_event(action: str, **fields: Any) -> dict[str, Any]:
    """An `installation*` payload in GitHub's documented shape, from the captured one."""
    payload = copy.deepcopy(INSTALLATION)
    payload["action"] = action
    payload.pop("repositories")
    payload.update(fields)
    return payload


def evaluated(fake: FakeGitHub) -> list[str]:
    return sorted(run["head_sha"][-1] for run in fake.check_runs.values())


@pytest.mark.parametrize(
    ("event", "payload"),
    [
        ("installation", INSTALLATION),  # captured: action created, repositories listed
        (
            "installation_repositories",
            installation_event(
                "added",
                repository_selection="selected",
                repositories_added=INSTALLATION["repositories"],
                repositories_removed=[],
                requester=None,
            ),
        ),
        ("installation", installation_event("new_permissions_accepted")),  # lists no repository
    ],
    ids=["created", "repositories-added", "new-permissions-accepted"],
)
def test_installation_events_evaluate_every_open_pr(
    running_bot: RunningBot,
    fake_github: FakeGitHub,
    open_pulls: list[PullData],
    event: str,
    payload: dict[str, Any],
) -> None:
    answer = running_bot.post("github", event, payload)

    assert (answer.status_code, answer.json()["status"]) == (202, "queued")
    running_bot.drain()
    assert evaluated(fake_github) == ["2", "5"]  # the open ones, not the closed PR 6
    token = fake_github.calls("POST", r"/access_tokens$")[0]
    assert token.path == f"/app/installations/{INSTALLATION['installation']['id']}/access_tokens"
    with running_bot.runtime.store.sessions() as session:
        deliveries = session.query(Delivery).order_by(Delivery.id).all()
        assert {d.status for d in deliveries} == {"done"}
        targets = [_targets_from(d.targets) for d in deliveries]
    # the repository-wide delivery fans out into one durable delivery per open PR
    assert [[t.number for t in each] for each in targets] == [[0], [2], [5]]
    assert {t.installation_id for each in targets for t in each} == {
        INSTALLATION["installation"]["id"]
    }
    runs = len(fake_github.check_runs)
    with running_bot.runtime.store.sessions() as session:  # as if the fan-out ran again
        session.query(Delivery).filter(Delivery.id == deliveries[0].id).update({"status": "queued"})
        session.commit()
    process_delivery(running_bot.runtime, deliveries[0].id)
    assert running_bot.drain() == 0 and len(fake_github.check_runs) == runs  # nothing new queued


@pytest.mark.parametrize(
    ("event", "payload", "status", "outcome"),
    [
        ("installation", installation_event("deleted"), 202, "ignored"),
        ("installation", installation_event("suspend"), 202, "ignored"),
        ("installation_repositories", installation_event("removed"), 202, "ignored"),
        ("installation_repositories", installation_event("added", repositories_added=[]), 202,
         "ignored"),
        ("installation_repositories",
         installation_event("added", repositories_added=[{"full_name": "no-slash"}]), 400,
         "rejected"),
        ("installation", {"action": "created", "installation": {"id": "x"}}, 400, "rejected"),
    ],
)  # fmt: skip
def test_other_or_malformed_installation_events(
    running_bot: RunningBot, event: str, payload: dict[str, Any], status: int, outcome: str
) -> None:
    answer = running_bot.post("github", event, json.dumps(payload).encode())

    assert (answer.status_code, answer.json()["status"]) == (status, outcome)
