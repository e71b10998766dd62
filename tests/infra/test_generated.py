"""The generated infra files are current, and the tables in them are the pynamodb models."""
from __future__ import annotations

import json

from pynamodb.attributes import BooleanAttribute, NumberAttribute, UnicodeAttribute

from chalicelib.store import tables
from scripts import build_template
from tests.infra.conftest import ROOT

TYPES = {UnicodeAttribute: "S", NumberAttribute: "N", BooleanAttribute: "B"}


def test_committed_files_equal_a_fresh_generation():
    stale = [str(p.relative_to(ROOT)) for p in build_template.stale_files()]
    assert stale == [], f"run .venv/bin/python scripts/build_template.py: {stale} are stale"


def test_check_mode_reports_nothing_stale(capsys):
    assert build_template.main(["--check"]) == 0
    assert capsys.readouterr().out == ""


def _committed_resources() -> dict:
    return json.loads((ROOT / "infra" / "resources.json").read_text())["Resources"]


def _attribute_type(model, name: str) -> str:
    attribute = model.get_attributes()[name]
    return next(code for kind, code in TYPES.items() if isinstance(attribute, kind))


def test_every_model_is_a_table_with_its_keys_indexes_and_ttl():
    resources = _committed_resources()
    dynamo = {name for name, r in resources.items() if r.get("Type") == "AWS::DynamoDB::Table"}
    assert dynamo == {build_template.logical_id(m.Meta.base_name) for m in tables.ALL_MODELS}
    for model in tables.ALL_MODELS:
        props = resources[build_template.logical_id(model.Meta.base_name)]["Properties"]
        assert props["TableName"] == {"Fn::Sub": "${TablePrefix}" + model.Meta.base_name}
        keys = {k["KeyType"]: k["AttributeName"] for k in props["KeySchema"]}
        assert keys["HASH"] == model._hash_keyname
        assert keys.get("RANGE") == model._range_keyname
        model_indexes = {
            index.Meta.index_name: index for index in model._indexes.values()}
        template_indexes = {i["IndexName"]: i for i in props.get("GlobalSecondaryIndexes", [])}
        assert set(template_indexes) == set(model_indexes)
        for name, index in model_indexes.items():
            keys = {k["KeyType"]: k["AttributeName"] for k in template_indexes[name]["KeySchema"]}
            index_keys = {("HASH" if a.is_hash_key else "RANGE"): a.attr_name
                          for a in index.Meta.attributes.values()}
            assert keys == index_keys, name
            assert (template_indexes[name]["Projection"]["ProjectionType"]
                    == index.Meta.projection.projection_type)
        defined = {a["AttributeName"]: a["AttributeType"] for a in props["AttributeDefinitions"]}
        for name, kind in defined.items():
            assert kind == _attribute_type(model, name), (model.__name__, name)
        ttl = tables.TTL_ATTRIBUTES.get(model)
        if ttl:
            assert props["TimeToLiveSpecification"] == {"AttributeName": ttl, "Enabled": True}
        else:
            assert "TimeToLiveSpecification" not in props
        stream = getattr(model.Meta, "stream_view_type", None)
        if stream:
            assert props["StreamSpecification"] == {"StreamViewType": stream}
        else:
            assert "StreamSpecification" not in props
        for name, index in model_indexes.items():
            projection = index.Meta.projection
            if projection.projection_type == "INCLUDE":
                assert sorted(template_indexes[name]["Projection"]["NonKeyAttributes"]) == \
                    sorted(projection.non_key_attributes), name


def test_a_changed_model_would_make_the_committed_template_stale(monkeypatch):
    """The drift check really reads the models (not a cached copy)."""
    monkeypatch.setattr(tables, "TTL_ATTRIBUTES", {})
    assert ROOT / "infra" / "resources.json" in build_template.stale_files()


def test_a_new_table_without_its_lambda_actions_is_refused(monkeypatch):
    monkeypatch.setattr(tables.IdempotencyItem.Meta, "base_name", "idempotency-v2")
    try:
        build_template.policy_document("prod")
    except ValueError as error:
        assert "idempotency-v2" in str(error)
    else:
        raise AssertionError("policy_document() accepted a table TABLE_ACTIONS does not know")


def test_stages_use_their_own_policy_and_table_prefix():
    config = json.loads((ROOT / ".chalice" / "config.json").read_text())
    for stage, settings in config["stages"].items():
        assert settings["autogen_policy"] is False
        assert settings["iam_policy_file"] == f"policy-{stage}.json"
        worker = settings["lambda_functions"][build_template.WORKER_HANDLER]
        assert worker["iam_policy_file"] == f"policy-{stage}-worker.json"
        assert settings["environment_variables"]["CHORUS_TABLE_PREFIX"] == f"chorus-{stage}-"
        for name in (settings["iam_policy_file"], worker["iam_policy_file"]):
            policy = (ROOT / ".chalice" / name).read_text()
            assert f"table/chorus-{stage}-tasks" in policy
            others = [s for s in config["stages"] if s != stage]
            assert not any(f"chorus-{other}-" in policy for other in others)


def test_the_job_worker_is_configured_for_a_long_import():
    config = json.loads((ROOT / ".chalice" / "config.json").read_text())
    for settings in config["stages"].values():
        worker = settings["lambda_functions"][build_template.WORKER_HANDLER]
        assert worker["lambda_timeout"] == 900 and worker["lambda_memory_size"] == 3008


def test_the_worker_grants_name_known_tables_and_indexes(monkeypatch):
    monkeypatch.setitem(build_template.WORKER_INDEXES, "tasks", ("by-nothing",))
    try:
        build_template.policy_document("prod", role="worker")
    except ValueError as error:
        assert "tasks/index/by-nothing" in str(error)
    else:
        raise AssertionError("policy_document() accepted an index the models do not have")


def test_config_keeps_the_original_keys_and_values():
    config = json.loads((ROOT / ".chalice" / "config.json").read_text())
    assert config["app_name"] == "chorus"
    assert config["lambda_memory_size"] == 1024 and config["lambda_timeout"] == 30
    assert config["environment_variables"] == {
        "CHORUS_AUTH": "token", "CHORUS_LOCK_TTL_SIZING": "900",
        "CHORUS_LOCK_TTL_BREAKDOWN": "1800", "CHORUS_LOCK_TTL_REFINEMENT": "1800",
        "CHORUS_LOCK_TTL_IMPLEMENTATION": "3600"}
    for stage in ("dev", "prod"):
        settings = config["stages"][stage]
        assert settings["api_gateway_stage"] == "api"
        assert settings["environment_variables"] == {
            "CHORUS_TABLE_PREFIX": f"chorus-{stage}-",
            "CHORUS_EXPORT_BUCKET": f"chorus-{stage}-exports",
            "CHORUS_CORS_ORIGINS": ""}
