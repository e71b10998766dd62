"""The smoke swarm: 4 agents drive a 50-task project to done over real HTTP (DynamoDB Local),
adding and removing dependencies as they go, and every invariant of scripts/swarm.py holds
(see its docstring: no implementation lock on a waiting task, readiness matching blockers,
every write exactly once in the activity feed with its actor)."""
import json

import pytest

from scripts import swarm


def assert_invariants_hold(summary: dict) -> None:
    invariants = summary["invariants"]
    readiness = invariants["readiness_matches_blockers"]
    assert readiness["drift"] == 0
    assert readiness["integrity_checked"] and readiness["checkpoints"] >= 2
    assert readiness["received_tasks"]["violations"] == 0
    assert readiness["received_tasks"]["decided"] > 0
    grants = invariants["implementation_lock_never_on_waiting_task"]
    assert grants.get("violations", 0) == 0
    assert grants["grants"] >= summary["operations"]["implementation"] > 0
    assert grants["proved_not_waiting"] > 0
    feed = invariants["writes_in_feed_exactly_once"]
    assert feed["missing"] == feed["duplicated_or_unexpected"] == 0
    assert feed["foreign_actors"] == feed["broken_status_chains"] == 0
    assert feed["events"] >= feed["writes_expected"] > summary["tasks"]
    assert invariants["dependency_cycle_rule"].get("wrong", 0) == 0


@pytest.mark.slow
def test_four_agents_finish_a_fifty_task_project_with_every_invariant_holding(tmp_path):
    out = tmp_path / "swarm.json"
    status = swarm.main(["--agents", "4", "--tasks", "50", "--seconds", "300",
                         "--edge-rate", "0.3", "--unlink-rate", "0.1", "--json", str(out)])
    summary = json.loads(out.read_text())
    assert summary["problems"] == []
    assert status == 0
    assert summary["tasks"] >= 50
    assert sum(summary["operations"].values()) >= summary["tasks"]
    assert not any(code.startswith("5") for code in summary["statuses"])
    assert_invariants_hold(summary)
    dependencies = summary["dependencies"]
    assert dependencies["after_edges"] > 0  # the plan orders some breakdowns (by name)
    assert dependencies.get("added", 0) > 0


@pytest.mark.slow
def test_at_a_five_percent_fault_rate_the_swarm_still_finishes_with_no_5xx(tmp_path):
    out = tmp_path / "swarm.json"
    status = swarm.main(["--agents", "4", "--tasks", "30", "--seconds", "300",
                         "--edge-rate", "0.2", "--fault-rate", "0.05", "--json", str(out)])
    summary = json.loads(out.read_text())
    assert summary["problems"] == []
    assert status == 0
    assert not any(code.startswith("5") for code in summary["statuses"])
    assert_invariants_hold(summary)
