"""The smoke swarm: 4 agents drive a 50-task project to done over real HTTP (DynamoDB Local),
and every invariant of scripts/swarm.py holds."""
import json

import pytest

from scripts import swarm


@pytest.mark.slow
def test_four_agents_finish_a_fifty_task_project_with_every_invariant_holding(tmp_path):
    out = tmp_path / "swarm.json"
    status = swarm.main(["--agents", "4", "--tasks", "50", "--seconds", "300",
                         "--json", str(out)])
    summary = json.loads(out.read_text())
    assert summary["problems"] == []
    assert status == 0
    assert summary["tasks"] >= 50
    assert sum(summary["operations"].values()) >= summary["tasks"]
    assert not any(code.startswith("5") for code in summary["statuses"])


@pytest.mark.slow
def test_at_a_five_percent_fault_rate_the_swarm_still_finishes_with_no_5xx(tmp_path):
    out = tmp_path / "swarm.json"
    status = swarm.main(["--agents", "4", "--tasks", "30", "--seconds", "300",
                         "--fault-rate", "0.05", "--json", str(out)])
    summary = json.loads(out.read_text())
    assert summary["problems"] == []
    assert status == 0
    assert not any(code.startswith("5") for code in summary["statuses"])
