"""Policies: built-in defaults per tier, files merged over them, strict parsing (a typo is an
error naming the key), writing through the SDK (audited), the CLI; accuracy goals."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from modelward.client import Client
from modelward.errors import EXIT_INVALID, InvalidInputError, InvalidPolicyError
from modelward.governance.goals import Goal, parse_goal
from modelward.governance.policies import load_policy, parse_policy
from tests.support.cli import Run


def test_built_in_defaults(mw_home: Path) -> None:
    low, medium, high = (load_policy(t, mw_home) for t in ("low", "medium", "high"))
    assert (low.validation_required, low.approvals, low.auto_approve) == (False, 0, True)
    assert (medium.validation_required, medium.approvals, medium.roles) == (True, 1, ("reviewer",))
    assert not medium.auto_approve and medium.previous == "keep"
    assert (high.approvals, high.checks, high.previous) == (2, ("champion",), "retire")
    assert all(p.segregation_of_duties and not p.multiple_production for p in (low, medium, high))
    assert {p.source for p in (low, medium, high)} == {"built-in"}
    assert high.approvers() == "2 approvals by a reviewer"


def test_a_file_overrides_only_what_it_names(mw_home: Path) -> None:
    folder = mw_home / "policies"
    folder.mkdir(parents=True)
    (folder / "medium.yaml").write_text(
        """
validation:
  checks: [goals, champion]
  thresholds:
    - {metric: accuracy, min: 0.8}
    - "rmse<=3"
  change_thresholds:
    - {metric: auc, max_relative: 0.02}
    - {metric: log_loss, max_absolute: 0.05, direction: lower}
approvals:
  count: 2
  roles: [reviewer, admin]
"""
    )
    policy = load_policy("medium", mw_home)
    assert policy.source.endswith("medium.yaml") and policy.approvals == 2
    assert policy.roles == ("reviewer", "admin") and policy.validation_required  # kept
    assert policy.thresholds == (Goal("accuracy", min=0.8), Goal("rmse", max=3.0))
    auc, loss = policy.change_thresholds
    assert (auc.metric, auc.direction, auc.max_relative, auc.max_absolute) == (
        "roc_auc",
        "higher",
        0.02,
        None,
    )
    assert (loss.direction, loss.max_absolute) == ("lower", 0.05)
    again = parse_policy("medium", policy.to_dict())
    assert again.to_dict() == policy.to_dict() and again.digest == policy.digest


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (
            {"aprovals": {"count": 2}},
            r"unknown key\(s\) 'aprovals'.*allowed keys: validation, approvals, production",
        ),
        (
            {"approvals": {"cont": 2}},
            r"approvals: unknown key\(s\) 'cont'.*allowed keys: count, roles",
        ),
        ({"validation": {"requird": True}}, "unknown key.*'requird'"),
        ({"approvals": {"count": "2"}}, "approvals.count must be a whole number"),
        ({"approvals": {"count": -1}}, "approvals.count must be a whole number"),
        ({"approvals": {"roles": "reviewer"}}, "approvals.roles must be a list"),
        ({"approvals": {"roles": ["reviwer"]}}, "unknown 'reviwer'.*allowed: viewer"),
        ({"approvals": {"roles": []}}, "approvals.roles is empty"),
        ({"validation": {"required": "yes"}}, "required must be true or false"),
        ({"validation": {"checks": ["gaols"]}}, "unknown 'gaols'.*allowed: goals, champion"),
        (
            {"validation": {"thresholds": [{"metric": "acuracy", "min": 1}]}},
            "unknown metric 'acuracy'",
        ),
        ({"validation": {"thresholds": [{"metric": "accuracy"}]}}, "needs 'min' or 'max'"),
        (
            {"validation": {"thresholds": [{"metric": "f1", "min": 0.9, "max": 0.1}]}},
            "min 0.9 is above max 0.1",
        ),
        (
            {"validation": {"thresholds": [{"metric": "f1", "minimum": 0.9}]}},
            r"unknown key\(s\) minimum",
        ),
        ({"validation": {"thresholds": "f1>=0.9"}}, "thresholds must be a list"),
        (
            {"validation": {"change_thresholds": [{"metric": "f1"}]}},
            "needs 'max_absolute' or 'max_relative'",
        ),
        (
            {"validation": {"change_thresholds": [{"metric": "f1", "max_relative": -1}]}},
            "cannot be negative",
        ),
        (
            {
                "validation": {
                    "change_thresholds": [{"metric": "f1", "max_absolute": 0.1, "direction": "up"}]
                }
            },
            "direction 'up'",
        ),
        ({"approvals": {"count": 1, "auto_approve": True}}, "auto_approve needs approvals.count 0"),
        ({"approvals": {"count": 0}}, "no version could be approved"),
        (
            {"production": {"previous": "archive"}},
            "production.previous 'archive' is not one of: retire, keep",
        ),
        ({"production": {"multiple": 1}}, "multiple must be true or false"),
        ({"production": ["multiple"]}, "production must be a mapping"),
        (["approvals"], "must be a mapping of sections"),
    ],
)
def test_typos_and_wrong_values_are_errors_never_defaults(data: Any, message: str) -> None:
    with pytest.raises(InvalidPolicyError, match=message):
        parse_policy("medium", data)


def test_broken_files_name_themselves(mw_home: Path) -> None:
    folder = mw_home / "policies"
    folder.mkdir(parents=True)
    (folder / "high.yaml").write_text("approvals: [count: 2\n")
    with pytest.raises(InvalidPolicyError, match=r"cannot read policy file .*high\.yaml"):
        load_policy("high", mw_home)
    (folder / "high.yaml").write_text("approvals:\n  count: 3\n  role: [reviewer]\n")
    with pytest.raises(
        InvalidPolicyError, match=r"high.yaml\): approvals: unknown key\(s\) 'role'"
    ):
        load_policy("high", mw_home)
    (folder / "low.yaml").write_text("")  # an empty file: the built-in policy
    assert load_policy("low", mw_home).auto_approve
    with pytest.raises(InvalidInputError, match="unknown risk tier 'urgent'"):
        load_policy("urgent", mw_home)


def test_set_policy_writes_the_file_and_audits_it(client: Client) -> None:
    policy = client.set_policy("medium", {"approvals": {"count": 2}})
    path = client.settings.home / "policies" / "medium.yaml"
    assert policy.source == str(path) and "count: 2" in path.read_text()
    assert client.get_policy("medium").to_dict() == policy.to_dict()
    event = client.audit_events(object_type="policy")[-1]
    assert (event.action, event.object_id, event.actor) == ("policy.set", "medium", "tester")
    assert (event.before["approvals"]["count"], event.after["approvals"]["count"]) == (1, 2)
    events = len(client.audit_events())
    with pytest.raises(InvalidPolicyError, match="'aprovals'"):
        client.set_policy("medium", {"aprovals": {"count": 3}})
    assert "count: 2" in path.read_text() and len(client.audit_events()) == events
    assert sorted(p.name for p in path.parent.iterdir()) == ["medium.yaml"]  # no temp files left


def test_goals_are_strict(client: Client) -> None:
    assert parse_goal("auc>=0.9") == Goal("roc_auc", min=0.9)
    assert parse_goal(" rmse <= 3.5 ").to_dict() == {"metric": "rmse", "max": 3.5}
    for bad, message in [
        ("auc>0.9", "not METRIC>=VALUE"),
        ("auc>=high", "not a number"),
        ("auc>=inf", "not a finite number"),
        ("speed>=3", "unknown metric 'speed'"),
        ({"metric": "f1", "min": True}, "must be a finite number"),
    ]:
        with pytest.raises(InvalidInputError, match=message):
            parse_goal(bad)  # type: ignore[arg-type]
    client.create_model("m")
    model = client.update_model("m", goals=["auc>=0.9", {"metric": "recall", "min": 0.5}])
    assert model.goals == [{"metric": "roc_auc", "min": 0.9}, {"metric": "recall", "min": 0.5}]
    with pytest.raises(InvalidInputError, match="goal 1: unknown metric 'acc'"):
        client.update_model("m", goals=["acc>=0.9"])
    assert client.get_model("m").goals == model.goals


def test_cli_policy_and_goals(client: Client, run: Run, tmp_path: Path) -> None:
    shown = json.loads(run("policy", "show", "high", "--json").out)
    assert shown["tier"] == "high" and shown["policy"]["approvals"]["count"] == 2
    assert "count: 2" in run("policy", "show", "high").out
    typo = tmp_path / "p.yaml"
    typo.write_text("approvals:\n  cuont: 2\n")
    refused = run("policy", "set", "medium", str(typo))
    assert refused.code == EXIT_INVALID and "unknown key(s) 'cuont'" in refused.err
    assert "allowed keys: count, roles" in refused.err
    good = tmp_path / "good.yaml"
    good.write_text("approvals:\n  count: 3\n")
    assert run("policy", "set", "medium", str(good)).code == 0
    assert client.get_policy("medium").approvals == 3
    client.create_model("m")
    assert run("models", "goals", "m", "--goal", "auc>=0.9", "-g", "rmse<=2").code == 0
    assert json.loads(run("models", "goals", "m", "--json").out) == [
        {"metric": "roc_auc", "min": 0.9},
        {"metric": "rmse", "max": 2.0},
    ]
    assert "roc_auc >=0.9" in run("models", "goals", "m").out
    assert run("models", "goals", "m", "--goal", "auc=0.9").code == EXIT_INVALID
    assert run("models", "goals", "m", "--clear").code == 0
    assert client.get_model("m").goals == []
