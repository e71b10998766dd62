"""SPEC §1 Context freshness and §6 fitting the context into max_bytes."""
import json
from types import SimpleNamespace

import pytest

from chalicelib.domain.context import DoesNotFit, fit, size_of, stale_reasons


def sent_size(document):
    """The body as sent: UTF-8 JSON (the API's compact encoding)."""
    return len(json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode())


def entry(n, text="x" * 200):
    return {"id": f"log-{n}", "task_id": "t", "author": "a", "operation": "note",
            "content": f"{n}:{text}", "created_at": f"2025-01-01T00:00:{n:02d}.000000Z"}


def commit(n):
    return {"id": f"c-{n}", "task_id": "t", "author": "a", "commit_hash": f"{n:07x}",
            "message": "m" * 200, "committed_at": f"2025-01-01T00:00:{n:02d}.000000Z"}


def ancestor(name, description="d" * 500, context="c" * 500):
    return {"id": name, "name": name, "description": description, "context": context,
            "updated_at": "2025-01-01T00:00:00.000000Z"}


def document(logs=5, commits=None, ancestors=None, task_text="task body"):
    return {
        "task": {"id": "t", "name": "task", "description": task_text},
        "project": {"id": "p", "name": "project", "description": "about the project"},
        "ancestors": ancestors if ancestors is not None else [],
        "work_log": [entry(n) for n in range(logs)],
        "commits": None if commits is None else [commit(n) for n in range(commits)],
        "context_captured_at": "2025-01-01T00:00:00.000000Z",
        "context_freshness": "fresh",
        "stale_reasons": [],
    }


def test_size_of_is_the_utf8_size_of_the_compact_json():
    doc = document(ancestors=[ancestor("é", "ü" * 10)])
    assert size_of(doc) == sent_size(doc)


def test_a_document_that_fits_is_not_truncated():
    doc = document()
    fitted = fit(doc, size_of(doc) + 100)
    assert fitted["truncated"] is False and fitted["truncation"] is None
    assert fitted["work_log"] == doc["work_log"]


def test_the_oldest_work_log_entries_go_first_and_only_as_many_as_needed():
    doc = document(logs=10)
    full = fit(doc, 10**7)
    limit = sent_size(full) - 3 * len(json.dumps(entry(0), separators=(",", ":")))
    fitted = fit(doc, limit)
    assert sent_size(fitted) <= limit
    dropped = fitted["truncation"]["work_log_entries_dropped"]
    assert fitted["work_log"] == doc["work_log"][dropped:]
    assert fitted["truncation"]["work_log_entries_total"] == 10
    assert dropped >= 3
    # only as far as needed: keeping one more entry would not fit
    one_more = {**fitted, "work_log": doc["work_log"][dropped - 1:],
                "truncation": {**fitted["truncation"],
                               "work_log_entries_dropped": dropped - 1}}
    assert sent_size(one_more) > limit


def test_commits_go_only_after_every_work_log_entry_oldest_first():
    doc = document(logs=4, commits=6)
    without_log = {**doc, "work_log": []}
    limit = sent_size(fit(without_log, 10**7)) - 200  # a little more than the log
    fitted = fit(doc, limit)
    truncation = fitted["truncation"]
    assert truncation["work_log_entries_dropped"] == 4 and fitted["work_log"] == []
    assert 1 <= truncation["commits_dropped"] < 6
    assert truncation["commits_total"] == 6
    assert fitted["commits"] == doc["commits"][truncation["commits_dropped"]:]
    assert truncation["ancestors_shortened"] == 0
    assert sent_size(fitted) <= limit


def test_commits_are_kept_while_dropping_work_log_entries_suffices():
    doc = document(logs=6, commits=3)
    limit = sent_size(fit(doc, 10**7)) - 300
    fitted = fit(doc, limit)
    assert fitted["truncation"]["commits_dropped"] == 0
    assert fitted["commits"] == doc["commits"]
    assert fitted["truncation"]["work_log_entries_dropped"] >= 1


def reported(doc, logs_dropped, commits_dropped):
    """The size of `doc` with the log and commits dropped and a report without shortenings."""
    commits = doc["commits"] or []
    return sent_size({
        **doc, "work_log": doc["work_log"][logs_dropped:],
        "commits": None if doc["commits"] is None else commits[commits_dropped:],
        "truncated": True,
        "truncation": {"work_log_entries_dropped": logs_dropped,
                       "work_log_entries_total": len(doc["work_log"]),
                       "commits_dropped": commits_dropped, "commits_total": len(commits),
                       "ancestors_shortened": 0, "shortened": []}})


def test_ancestors_are_shortened_root_first_description_before_context_only_as_needed():
    root, mid = ancestor("root"), ancestor("mid")
    doc = document(logs=2, commits=2, ancestors=[root, mid])
    limit = reported(doc, 2, 2) - 100  # about 180 characters to cut, with the report line
    fitted = fit(doc, limit)
    assert sent_size(fitted) <= limit
    truncation = fitted["truncation"]
    assert truncation["work_log_entries_dropped"] == 2
    assert truncation["commits_dropped"] == 2
    shortened = truncation["shortened"]
    assert [(s["ancestor_id"], s["field"]) for s in shortened] == [("root", "description")]
    assert shortened[0]["original_chars"] == 500
    kept = shortened[0]["kept_chars"]
    assert 0 < kept < 500
    got_root, got_mid = fitted["ancestors"]
    assert got_root["description"] == root["description"][:kept]
    assert got_root["context"] == root["context"]
    assert got_mid == mid
    assert truncation["ancestors_shortened"] == 1
    # only as far as needed: one more character would not fit
    longer = json.loads(json.dumps(fitted))
    longer["ancestors"][0]["description"] = root["description"][:kept + 1]
    longer["truncation"]["shortened"][0]["kept_chars"] = kept + 1
    assert sent_size(longer) > limit
    # the input document is left as it was
    assert doc["ancestors"][0]["description"] == "d" * 500


def test_shortening_moves_to_the_context_then_to_the_next_ancestor():
    root, mid = ancestor("root", "d" * 300, "c" * 300), ancestor("mid", "e" * 300, "f" * 300)
    doc = document(logs=0, ancestors=[root, mid])
    limit = reported(doc, 0, 0) - 500  # about 725 characters to cut, with the report lines
    fitted = fit(doc, limit)
    shortened = fitted["truncation"]["shortened"]
    assert [(s["ancestor_id"], s["field"]) for s in shortened] == [
        ("root", "description"), ("root", "context"), ("mid", "description")]
    assert shortened[0]["kept_chars"] == 0 and shortened[1]["kept_chars"] == 0
    assert 0 < shortened[2]["kept_chars"] < 300
    assert fitted["ancestors"][1]["context"] == "f" * 300
    assert fitted["truncation"]["ancestors_shortened"] == 2
    assert sent_size(fitted) <= limit


def test_empty_ancestor_fields_are_skipped():
    doc = document(logs=0, ancestors=[ancestor("root", None, ""), ancestor("mid")])
    limit = reported(doc, 0, 0) - 200
    fitted = fit(doc, limit)
    assert {s["ancestor_id"] for s in fitted["truncation"]["shortened"]} == {"mid"}


def test_multibyte_text_is_measured_in_utf8_bytes():
    doc = document(logs=0, ancestors=[ancestor("root", "€" * 400, None)])
    limit = reported(doc, 0, 0) - 300
    fitted = fit(doc, limit)
    assert sent_size(fitted) <= limit
    kept = fitted["truncation"]["shortened"][0]["kept_chars"]
    assert fitted["ancestors"][0]["description"] == "€" * kept
    assert kept < 400 - 90  # 300 bytes are about 100 three-byte characters


def test_the_task_and_the_project_are_never_cut():
    doc = document(logs=3, commits=2, ancestors=[ancestor("root")], task_text="T" * 5000)
    with pytest.raises(DoesNotFit) as raised:
        fit(doc, 2000)
    min_bytes = raised.value.min_bytes
    assert min_bytes > 5000


@pytest.mark.parametrize("logs,commits,ancestors", [
    (0, None, 0), (5, None, 1), (5, 5, 3), (0, 3, 2), (12, 0, 15)])
def test_min_bytes_works_as_max_bytes(logs, commits, ancestors):
    doc = document(logs=logs, commits=commits, task_text="T" * 3000,
                   ancestors=[ancestor(f"a{i}") for i in range(ancestors)])
    with pytest.raises(DoesNotFit) as raised:
        fit(doc, 1024)
    min_bytes = raised.value.min_bytes
    fitted = fit(doc, min_bytes)
    assert sent_size(fitted) <= min_bytes
    assert fitted["task"] == doc["task"] and fitted["project"] == doc["project"]
    try:
        smaller = fit(doc, min_bytes - 1)
    except DoesNotFit:
        pass
    else:  # if a smaller limit is accepted, the answer must respect it
        assert sent_size(smaller) <= min_bytes - 1


def test_a_document_that_fits_only_without_the_truncation_fields_is_still_within_max_bytes():
    doc = document(logs=3)
    limit = size_of(doc)  # the document as built by the service, without the two fields
    fitted = fit(doc, limit)
    assert sent_size(fitted) <= limit


@pytest.mark.parametrize("limit", [1500, 2500, 4000, 8000, 16000])
def test_the_result_never_exceeds_max_bytes(limit):
    doc = document(logs=8, commits=4, ancestors=[ancestor("root"), ancestor("mid", "é" * 700)])
    try:
        fitted = fit(doc, limit)
    except DoesNotFit as too_big:
        assert too_big.min_bytes > limit
    else:
        assert sent_size(fitted) <= limit


# -- freshness --------------------------------------------------------------------------
def stamp(day):
    return f"2025-01-{day:02d}T00:00:00.000000Z"


def parent(name, day):
    return SimpleNamespace(id=f"id-{name}", name=name, content_changed_at=stamp(day))


def test_never_captured_is_stale():
    assert stale_reasons(None, [parent("root", 1)]) == ["never captured"]


def test_fresh_when_no_ancestor_changed_after_the_capture():
    assert stale_reasons(stamp(5), [parent("root", 1), parent("mid", 5)]) == []


def test_one_reason_per_ancestor_changed_later_naming_it():
    reasons = stale_reasons(stamp(5), [parent("root", 6), parent("mid", 2), parent("low", 9)])
    assert len(reasons) == 2
    assert "id-root" in reasons[0] and "id-low" in reasons[1]


def test_no_ancestors_and_captured_is_fresh():
    assert stale_reasons(stamp(1), []) == []
