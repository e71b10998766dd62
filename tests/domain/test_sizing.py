"""SPEC §1 Sizing: five dimensions scored 0-2, the server's total, low confidence."""
import itertools

import pytest

from chalicelib.domain.sizing import DIMENSIONS, low_confidence_note, total_points


def test_the_five_dimensions():
    assert set(DIMENSIONS) == {"scope_clarity", "decision_points", "context_window_demand",
                               "verification_complexity", "domain_specificity"}


@pytest.mark.parametrize("scores", list(itertools.product(range(3), repeat=5))[::7])
def test_total_is_the_sum_of_the_five_scores(scores):
    assert total_points(dict(zip(DIMENSIONS, scores))) == sum(scores)


def test_total_ranges_from_0_to_10():
    assert total_points(dict.fromkeys(DIMENSIONS, 0)) == 0
    assert total_points(dict.fromkeys(DIMENSIONS, 2)) == 10


def test_total_ignores_anything_but_the_dimensions():
    scores = {**dict.fromkeys(DIMENSIONS, 1), "total": 99, "confidence": 5}
    assert total_points(scores) == 5


@pytest.mark.parametrize("confidence,note", [
    (0, "low sizing confidence: 0"), (1, "low sizing confidence: 1"),
    (2, "low sizing confidence: 2"), (3, None), (4, None), (5, None)])
def test_confidence_of_two_or_less_adds_a_refinement_note(confidence, note):
    assert low_confidence_note(confidence) == note
