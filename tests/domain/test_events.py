"""The activity feed's one-line summaries (SPEC §14): English a person reads at a glance."""
from __future__ import annotations

import pytest

from chalicelib.domain.events import EVENT_KINDS, summary


@pytest.mark.parametrize("operation,expected", [
    ("implementation", "agent-1 logged an implementation entry on “Login”"),
    ("note", "agent-1 logged a note entry on “Login”"),
    ("refinement", "agent-1 logged a refinement entry on “Login”"),
])
def test_a_log_entry_takes_the_right_article(operation, expected):
    assert summary("note", "agent-1", "Login", {"operation": operation}) == expected


@pytest.mark.parametrize("commits,expected", [
    (0, "agent-1 completed “Login”"),
    (1, "agent-1 completed “Login” with 1 new commit"),
    (3, "agent-1 completed “Login” with 3 new commits"),
])
def test_completed_counts_the_commits_it_recorded(commits, expected):
    assert summary("completed", "agent-1", "Login", {"commits": commits}) == expected


@pytest.mark.parametrize("kind", EVENT_KINDS)
def test_every_kind_has_its_own_sentence_naming_the_task(kind):
    line = summary(kind, "agent-1", "Login", {"lock_purpose": "sizing", "operation": "note",
                                               "from": "todo", "to": "doing", "fields": ["name"],
                                               "previous_holder": "agent-2", "commits": 1,
                                               "commit_hash": "abc"})
    assert "“Login”" in line and f": {kind} on" not in line
