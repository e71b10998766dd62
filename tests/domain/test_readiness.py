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


def task(needs_refinement=False, points=None, counted=0, sized=0, rolled=0):
    return SimpleNamespace(needs_refinement=needs_refinement, points=points,
                           counted_children=counted, sized_children=sized, rolled_sum=rolled)


@pytest.mark.parametrize(
    "flag,points,counted,expected",
    [
        (flag, points, counted,
         "needs_refinement" if flag else "blocked_by_children" if counted
         else "needs_sizing" if points is None else "needs_breakdown" if points > 6 else "ready")
        for flag, points, counted in itertools.product(
            (False, True), (None, *range(11)), (0, 1, 3))
    ],
)
def test_readiness_first_match_wins(flag, points, counted, expected):
    assert readiness(task(flag, points, counted)) == expected


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
