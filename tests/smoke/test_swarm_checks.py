"""The swarm's checkers catch what they claim to catch (synthetic feeds, no server): an
implementation lock granted while the task certainly waited, a Task answer that disagrees with
its blockers, a write missing from the feed or recorded twice, a foreign actor, a status
history that does not chain, a wrong cycle refusal; and racing cases stay undecided."""
from datetime import datetime, timezone

from scripts import swarm

T0 = 1_700_000_000.0


def at(offset: float) -> str:
    return datetime.fromtimestamp(T0 + offset, tz=timezone.utc).strftime(
        "%Y-%m-%dT%H:%M:%S.%fZ")


def event(offset, task_id, kind, actor, **details):
    return {"id": f"{task_id}-{kind}-{offset}", "task_id": task_id, "kind": kind,
            "actor": actor, "at": at(offset), "details": details}


def task(task_id, parent=None, status="done", blocked_by=()):
    return {"id": task_id, "parent_task_id": parent, "status": status,
            "blocked_by": list(blocked_by)}


def world():
    """Epic E (with leaf A below it) waits for leaf B from t=10; B is done at t=20."""
    stats = swarm.Stats()
    stats.writes["agent-1"] += [(T0 + 9.9, T0 + 10.1)]
    stats.writes["agent-2"] += [(T0 + 14.9, T0 + 15.1), (T0 + 19.9, T0 + 20.2)]
    stats.writes["agent-3"] += [(T0 + 11.9, T0 + 12.1), (T0 + 20.05, T0 + 20.3),
                                (T0 + 24.9, T0 + 25.1), (T0 + 29.9, T0 + 30.1)]
    oldest_first = [
        event(10, "E", "dependency_added", "agent-1", blocker_id="B"),
        event(12, "A", "lock_acquired", "agent-3", lock_purpose="implementation"),
        event(12, "A", "status_changed", "agent-3", **{"from": "todo", "to": "doing",
                                                       "cause": "request"}),
        event(15, "B", "status_changed", "agent-2", **{"from": "todo", "to": "doing",
                                                       "cause": "request"}),
        event(20, "B", "status_changed", "agent-2", **{"from": "doing", "to": "done",
                                                       "cause": "request"}),
        event(20.1, "A", "lock_acquired", "agent-3", lock_purpose="implementation"),
        event(25, "A", "lock_acquired", "agent-3", lock_purpose="implementation"),
        event(30, "A", "status_changed", "agent-3", **{"from": "doing", "to": "done",
                                                       "cause": "request"}),
        event(30, "E", "status_changed", "agent-3", **{"from": "todo", "to": "done",
                                                       "cause": "complete_upward"}),
    ]
    tasks = [task("E", blocked_by=["B"]), task("A", parent="E"), task("B")]
    return stats, list(reversed(oldest_first)), tasks


def seen(task_id, waiting, open_blockers, blocked_by, start, end, readiness=None,
         status="todo"):
    readiness = readiness or ("blocked_by_dependencies" if waiting else "ready")
    return (task_id, status, readiness, waiting, open_blockers, tuple(blocked_by), False, 0, 3,
            T0 + start, T0 + end)


def test_a_grant_while_the_task_certainly_waited_is_a_violation_and_a_racing_one_undecided():
    stats, events, tasks = world()
    stats.grants += [swarm.Grant("A", "agent-3", 1, T0 + 11.9, T0 + 12.1),
                     swarm.Grant("A", "agent-3", 2, T0 + 20.05, T0 + 20.3),
                     swarm.Grant("A", "agent-3", 3, T0 + 24.9, T0 + 25.1)]
    result = swarm.check_timeline(events, tasks, stats)
    assert result["grants"] == {"grants": 3, "violations": 1, "undecided": 1,
                                "proved_not_waiting": 1}
    assert any("certainly waited" in p for p in result["problems"])


def test_answers_are_judged_against_the_blockers_only_where_nothing_races_them():
    stats, events, tasks = world()
    stats.snapshots += [
        seen("A", True, 0, [], 11, 11.5),  # right: E waits for an open B
        seen("A", False, 0, [], 16, 16.5, status="doing"),  # wrong: still waiting
        seen("E", True, 1, ["B"], 19.95, 20.25),  # B finishing meanwhile: undecided
        seen("E", True, 1, ["B"], 26, 26.5),  # wrong: B is done
        seen("E", False, 0, [], 27, 27.5),  # wrong: the edge stands
        seen("B", False, 0, [], 5, 5.5, readiness="blocked_by_dependencies"),  # inconsistent
    ]
    result = swarm.check_timeline(events, tasks, stats)
    assert result["snapshots"]["decided"] == 4
    assert result["snapshots"]["undecided"] == 1
    assert result["snapshots"]["violations"] == 4


def test_the_feed_check_finds_missing_doubled_and_foreign_events_and_broken_histories():
    stats, events, tasks = world()
    stats.expect([("E", "dependency_added", "agent-1", "B"),
                  ("A", "lock_acquired", "agent-3", "implementation"),
                  ("A", "lock_acquired", "agent-3", "implementation"),
                  ("A", "lock_acquired", "agent-3", "implementation"),
                  ("A", "status_changed", "agent-3", "doing->done"),
                  ("B", "status_changed", "agent-2", "todo->doing"),
                  ("B", "status_changed", "agent-2", "doing->done")])
    stats.grants.append(swarm.Grant("A", "agent-3", 1, T0 + 11.9, T0 + 12.1))
    labels = {"agent-1", "agent-2", "agent-3"}
    clean = swarm.check_feed(events, tasks, stats, labels)
    assert clean["missing"] == clean["duplicated_or_unexpected"] == 0
    assert clean["broken_status_chains"] == 0
    assert [p for p in clean["problems"] if "task_created" not in p] == []

    assert events[0]["task_id"] == "E" and events[1]["task_id"] == "A"
    doubled = [events[1]] + events  # A's doing -> done twice: also breaks its history
    foreign = [dict(events[0], actor="mallory")] + events[1:]  # E's cascade by a stranger
    dropped = events[:1] + events[2:]  # A's completion lost: A's history ends at doing
    assert swarm.check_feed(doubled, tasks, stats, labels)["duplicated_or_unexpected"] == 1
    assert swarm.check_feed(doubled, tasks, stats, labels)["broken_status_chains"] == 1
    assert swarm.check_feed(foreign, tasks, stats, labels)["foreign_actors"] == 1
    assert swarm.check_feed(dropped, tasks, stats, labels)["missing"] == 1
    assert swarm.check_feed(dropped, tasks, stats, labels)["broken_status_chains"] == 1


def test_the_cycle_rule_follows_subtrees():
    parents = {"E": None, "A": "E", "F": None, "C": "F"}

    def related(a, b):
        def chain(x):
            out = []
            while x is not None:
                out.append(x)
                x = parents.get(x)
            return out
        return a in chain(b) or b in chain(a)

    assert swarm.has_cycle([("A", "E")], related)  # waits for its own ancestor
    assert not swarm.has_cycle([("A", "C")], related)
    assert swarm.has_cycle([("E", "C"), ("C", "A")], related)  # E's subtree holds A
    assert swarm.has_cycle([("E", "F"), ("C", "A")], related)  # through both subtrees
    assert not swarm.has_cycle([("A", "C"), ("E", "B")], related)


def test_a_cycle_refusal_that_no_standing_edge_explains_is_reported():
    stats, events, tasks = world()
    stats.writes["agent-1"].append((T0 + 40, T0 + 40.2))
    stats.edge_attempts += [("B", "A", T0 + 40, T0 + 40.2, "cycle"),  # E waits for B: right
                            ("A", "B", T0 + 40, T0 + 40.2, "cycle")]  # E -> B, A -> B: wrong
    result = swarm.check_timeline(events, tasks, stats)
    assert result["cycle_rule"] == {"cycle_checked": 2, "wrong": 1}
