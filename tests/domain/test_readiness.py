"""SPEC §1 Readiness and Point rollup: first match wins, wont_do children do not count."""
import itertools
from types import SimpleNamespace

import pytest

from chalicelib.domain.readiness import (
    effective_points,
    readiness,
    rolled_up_points,
    unsized_children,
)


def task(needs_refinement=False, points=None, counted=0, sized=0, rolled=0, open_blockers=0,
         waiting_ancestors=0):
    return SimpleNamespace(needs_refinement=needs_refinement, points=points,
                           counted_children=counted, sized_children=sized, rolled_sum=rolled,
                           open_blockers=open_blockers, waiting_ancestors=waiting_ancestors)


def spec_readiness(flag, points, counted, waiting):
    if flag:
        return "needs_refinement"
    if counted:
        return "blocked_by_children"
    if points is None:
        return "needs_sizing"
    if points > 6:
        return "needs_breakdown"
    if waiting:
        return "blocked_by_dependencies"
    return "ready"


@pytest.mark.parametrize(
    "flag,points,counted,own,inherited",
    list(itertools.product((False, True), (None, *range(11)), (0, 1, 3), (0, 2), (0, 1))),
)
def test_readiness_first_match_wins(flag, points, counted, own, inherited):
    """Rule 5 (SPEC §12): waiting, by its own open blockers or an ancestor's, holds back only
    what would otherwise be ready."""
    expected = spec_readiness(flag, points, counted, own > 0 or inherited > 0)
    assert readiness(task(flag, points, counted, open_blockers=own,
                          waiting_ancestors=inherited)) == expected


def test_six_points_is_ready_and_seven_needs_breakdown():
    assert readiness(task(points=6)) == "ready"
    assert readiness(task(points=7)) == "needs_breakdown"


def test_a_parent_whose_children_add_up_past_six_is_not_offered_for_breakdown_again():
    parent = task(points=8, counted=3, sized=3, rolled=12)
    assert readiness(parent) == "blocked_by_children"
    assert effective_points(parent) == 12


def test_rolled_up_points_are_null_until_a_counted_child_has_effective_points():
    parent = task(points=5, counted=2, sized=0)
    assert rolled_up_points(parent) is None
    assert effective_points(parent) == 5
    assert unsized_children(parent) == 2


def test_rolled_up_points_replace_the_parents_own_points():
    parent = task(points=5, counted=2, sized=1, rolled=3)
    assert (rolled_up_points(parent), effective_points(parent), unsized_children(parent)) == (
        3, 3, 1)


def test_an_unsized_leaf_has_no_effective_points():
    assert effective_points(task()) is None
