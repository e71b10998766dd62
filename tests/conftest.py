"""Fixtures shared by every suite: an in-process moto DynamoDB with Chorus's tables, Chalice's
test client, a controllable clock, and how tests are spread over pytest-xdist workers.

Parallel runs (`make test-unit` runs `pytest -n 2 --dist loadfile`): each worker is its own
process with its own moto and, when a test needs it, its own DynamoDB Local (the session
fixture of tests/integration/conftest.py) or local server; each test file runs whole on one
worker, the longest files first. Session fixtures run once per worker; what they build in
the tree is built under a lock (tests/infra/conftest.py).
"""
from __future__ import annotations

import functools
import inspect
import json
import os
from pathlib import Path

import pytest

os.environ.setdefault("AWS_ACCESS_KEY_ID", "testing")
os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "testing")
os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
os.environ["CHORUS_AUTH"] = "off"


# -- pytest-xdist: longest files first ------------------------------------------------------
# `make test-unit` runs `pytest -n 2 --dist loadfile`: each file runs whole on one worker (a
# module-scoped server, or a data directory one test writes and the next reads, stays
# consistent), and files are handed out in the order of the collected items, so the longest
# go first and none starts last to run alone at the end. "Longest" is what the last run
# measured (kept in pytest's cache); files it has not measured rank by where they are: those
# that start servers, DynamoDB Local, checkov or swarms, or hold a `slow` test, come first.
# (--dist loadgroup does not group with pytest 9.2: pytest-xdist 3.8 renames the node ids by
# setting `_nodeid`, which pytest 9 no longer reads.)
_LONG_DIRS = ("tests/e2e/", "tests/infra/", "tests/smoke/", "tests/skill/", "tests/fuzz/",
              "tests/integration/")
_GUESS_SECONDS = 60.0  # a long file not yet measured
_CACHE_KEY = "chorus/seconds-per-file"
_measured: dict[str, float] = {}


def _file_of(nodeid: str) -> str:
    return nodeid.split("::", 1)[0]


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config, items):
    if not hasattr(config, "workerinput"):  # the order only matters to pytest-xdist workers
        return
    known = config.cache.get(_CACHE_KEY, {}) if getattr(config, "cache", None) else {}
    slow = {_file_of(item.nodeid) for item in items if item.get_closest_marker("slow")}

    def seconds(path: str) -> float:
        if path in known:
            return float(known[path])
        return _GUESS_SECONDS if path.startswith(_LONG_DIRS) or path in slow else 0.0

    items.sort(key=lambda item: -seconds(_file_of(item.nodeid)))  # stable within a file


def pytest_runtest_logreport(report):
    _measured[_file_of(report.nodeid)] = _measured.get(_file_of(report.nodeid), 0.0) + (
        report.duration or 0.0)


def pytest_sessionfinish(session):
    config = session.config
    if hasattr(config, "workerinput") or not _measured or getattr(config, "cache", None) is None:
        return
    known = config.cache.get(_CACHE_KEY, {})
    known.update({path: round(seconds, 1) for path, seconds in _measured.items()})
    config.cache.set(_CACHE_KEY, known)


# -- moto speed-ups --------------------------------------------------------------------------
# Costs of moto/pynamodb that are pure overhead in the in-process tests. They are applied for
# each test that uses the `dynamodb` fixture below and undone after it (tests on DynamoDB
# Local, threads and real servers get the libraries as they are); each patch checks the
# library source it replaces and stays off if it differs:
#
# * every pynamodb connection makes its own botocore session, which re-reads botocore's JSON
#   service models (~1 s per test for seven sessions). One shared session reads them once.
# * moto replaces boto3's default session in every test, so each boto3.client("s3") builds a
#   new botocore loader that parses the service models again (~0.25 s); loaders are shared.
# * moto's TransactWriteItems deep-copies every table it touches before it starts (to roll
#   back on failure), so each transaction costs O(table size) and building a 5000-task project
#   costs O(n^2). Here only the items the transaction names are copied, and put back on failure.
# * moto's Item() checks the 400 KB item limit by re-measuring every attribute each time it
#   adds one (O(attributes^2) per item); the same check is done with a running total.
# * moto 5.2's response serializer works out the same attribute aliases again for every
#   attribute of every item it returns (~35 ms per GetItem of a task). For plain dicts the
#   aliases depend only on the shape and the key, so they are remembered.
# * the same serializer walks every AttributeValue member by member; one that holds only
#   strings, numbers, booleans, null, sets, lists and maps is already in its wire form and is
#   copied as it is (binary values take moto's own way).
#
# CHORUS_TEST_NO_SPEEDUPS=1 runs the tests on plain moto (tests/api/test_moto_speedups.py
# checks both).

_PLANNED: list[tuple[object, str, object]] | None = None  # worked out once per process
_APPLIED: list[tuple[object, str, object]] = []  # the originals, while a moto test runs


def _patch(owner, name: str, value) -> None:
    """Plan owner.name = value (applied for each moto test, undone after it)."""
    assert _PLANNED is not None
    _PLANNED.append((owner, name, value))


def _source_has(obj, *fragments: str) -> bool:
    try:
        source = inspect.getsource(obj)
    except (OSError, TypeError):
        return False
    return all(fragment in source for fragment in fragments)


def _share_botocore_session() -> None:
    import botocore.session
    from pynamodb.connection import base

    if getattr(base, "get_session", None) is not botocore.session.get_session:
        return
    import moto.core.botocore_stubber  # noqa: F401  (its send hook must be in the session)

    session = botocore.session.get_session()
    _patch(base, "get_session", lambda: session)
    # tables.configure() drops every model's connection, so each test builds seven new
    # DynamoDB clients; one client per endpoint serves them all (moto intercepts the sends,
    # so a client keeps no state that belongs to one test).
    clients: dict = {}
    create_client = session.create_client

    def cached_client(service_name, region_name=None, *args, endpoint_url=None, **kwargs):
        if service_name != "dynamodb" or args:
            return create_client(service_name, region_name, *args, endpoint_url=endpoint_url,
                                 **kwargs)
        key = (region_name, endpoint_url)
        client = clients.get(key)
        if client is None:
            client = create_client(service_name, region_name, endpoint_url=endpoint_url,
                                   **kwargs)
            events = client.meta.events
            register_first = events.register_first

            def register_once(event_name, handler, *more, **options):
                # pynamodb's per-connection `_before_send` (extra headers: none here)
                if getattr(handler, "__name__", "") == "_before_send" and getattr(
                        events, "_chorus_before_send", False):
                    return None
                events._chorus_before_send = True
                return register_first(event_name, handler, *more, **options)

            events.register_first = register_once
            clients[key] = client
        return client

    _patch(session, "create_client", cached_client)


def _share_botocore_loaders() -> None:
    """A loader only reads botocore's bundled JSON files and caches them: one per search path
    serves every session (a single session already shares its loader among its clients)."""
    import botocore.session
    from botocore import loaders

    if getattr(botocore.session, "create_loader", None) is loaders.create_loader:
        _patch(botocore.session, "create_loader",
               functools.lru_cache(maxsize=8)(loaders.create_loader))


def _remember_moto_aliases() -> None:
    try:
        from moto.core import serialize
        from moto.core.utils import MISSING, get_value
    except ImportError:  # pragma: no cover
        return
    picker = getattr(serialize, "AttributePicker", None)
    if picker is None or not _source_has(
            picker.__call__, "self.get_possible_keys(context)", "self.response_transformers"):
        return
    original_call = picker.__call__
    cache: dict[tuple, tuple[str, ...]] = {}
    shapes: list = []  # keeps the shapes alive, so their ids stay unique

    def call(self, context):
        obj = context.obj
        if type(obj) is not dict:
            return original_call(self, context)
        key = (type(self), id(context.shape), context.key)
        keys = cache.get(key)
        if keys is None:
            keys = tuple(self.get_possible_keys(context))
            cache[key] = keys
            shapes.append(context.shape)
        value = None
        for possible_key in keys:
            found = get_value(obj, possible_key, MISSING)
            if found is not MISSING:
                value = found
                break
        key_path = f"{context.key_path}.{context.key}"
        for transform_path, transform in self.response_transformers.items():
            if key_path.endswith(transform_path):
                return transform(value)
        return value

    _patch(picker, "__call__", call)


def _measure_items_once() -> None:
    try:
        from moto.dynamodb.exceptions import ItemSizeTooLarge
        from moto.dynamodb.models import dynamo_type
        from moto.dynamodb.models.utilities import bytesize
    except ImportError:  # pragma: no cover
        return
    item_cls, limited = dynamo_type.Item, dynamo_type.LimitedSizeDict
    if not (_source_has(item_cls.__init__, "self.attrs = LimitedSizeDict()",
                        "self.attrs[key] = DynamoType(value)")
            and _source_has(limited.__setitem__, "> 405000")):
        return
    dynamo = dynamo_type.DynamoType

    def init(self, hash_key, range_key, attrs):
        self.hash_key = hash_key
        self.range_key = range_key
        self.attrs = limited()
        total = 0
        for key, value in attrs.items():
            typed = dynamo(value)
            size = bytesize(key) + typed.size()
            if total + size > 405000:
                raise ItemSizeTooLarge
            dict.__setitem__(self.attrs, key, typed)
            total += size

    _patch(item_cls, "__init__", init)


class _CopyWithoutTables:
    """Stands in for the `copy` module inside moto.dynamodb.models: copying a whole Table is
    skipped while a transaction's own rollback (below) is in charge."""

    def __init__(self, real, table_type):
        self._real = real
        self._table_type = table_type
        self.active = False

    def deepcopy(self, value, memo=None):
        if self.active and isinstance(value, self._table_type):
            return value
        return self._real.deepcopy(value, memo)

    def __getattr__(self, name):
        return getattr(self._real, name)


def _roll_back_only_touched_items() -> None:
    import copy

    try:
        from moto.dynamodb import models
        from moto.dynamodb.models.table import Table
    except ImportError:  # pragma: no cover
        return
    backend = getattr(models, "DynamoDBBackend", None)
    if (backend is None or getattr(models, "copy", None) is not copy
            or not _source_has(backend.transact_write_items,
                               "original_table_state[table_name] = copy.deepcopy(",
                               "self.tables[table_name] = original_table_state[table_name]")):
        return
    shim = _CopyWithoutTables(copy, Table)
    _patch(models, "copy", shim)
    original = backend.transact_write_items

    def snapshot(self, transact_items):
        saved = []
        for entry in transact_items:
            (op_type, op), = entry.items()
            table = self.get_table(op["TableName"])
            if op_type == "Put":
                attrs = op["Item"]
                key = {table.hash_key_attr: attrs[table.hash_key_attr]}
                if table.range_key_attr is not None:
                    key[table.range_key_attr] = attrs[table.range_key_attr]
            else:
                key = op["Key"]
            hash_value, range_value = self.get_keys_value(table, key)
            current = table.get_item(hash_value, range_value)
            saved.append((table, hash_value, range_value, copy.deepcopy(current)))
        return saved

    def restore(saved):
        for table, hash_value, range_value, item in reversed(saved):
            if table.range_key_attr is not None:
                if item is None:
                    table.items.get(hash_value, {}).pop(range_value, None)
                else:
                    table.items[hash_value][range_value] = item
            elif item is None:
                table.items.pop(hash_value, None)
            else:
                table.items[hash_value] = item

    def transact_write_items(self, transact_items):
        try:
            saved = snapshot(self, transact_items)
        except Exception:  # anything unusual: moto's own (slow) way
            return original(self, transact_items)
        shim.active = True
        try:
            return original(self, transact_items)
        except Exception:
            restore(saved)
            raise
        finally:
            shim.active = False

    _patch(backend, "transact_write_items", transact_write_items)


def _plain_attribute_value(value):
    """A DynamoDB AttributeValue dict as the JSON protocol sends it, or None when it holds
    anything but strings, numbers, booleans, null, string/number sets, lists and maps."""
    if type(value) is not dict or len(value) != 1:
        return None
    (kind, inner), = value.items()
    if kind in ("S", "N"):
        return value if type(inner) is str else None
    if kind in ("BOOL", "NULL"):
        return value if type(inner) is bool else None
    if kind in ("SS", "NS"):
        if type(inner) is list and all(type(one) is str for one in inner):
            return {kind: list(inner)}
        return None
    if kind == "L" and type(inner) is list:
        out = []
        for one in inner:
            plain = _plain_attribute_value(one)
            if plain is None:
                return None
            out.append(plain)
        return {"L": out}
    if kind == "M" and type(inner) is dict:
        out = {}
        for name, one in inner.items():
            plain = _plain_attribute_value(one)
            if plain is None or type(name) is not str:
                return None
            out[name] = plain
        return {"M": out}
    return None  # binary (B, BS) and anything unexpected: moto's own way


def _serialize_attribute_values_directly() -> None:
    """moto 5.2 serializes every AttributeValue member by member through its generic shape
    walker (a context object and a key path per member: ~30% of the CPU of a test that reads
    thousands of items). An AttributeValue of strings, numbers, booleans, null, sets, lists
    and maps is already in its wire form: it is copied as it is."""
    try:
        from moto.core import serialize
    except ImportError:  # pragma: no cover
        return
    json_serializer = getattr(serialize, "BaseJSONSerializer", None)
    base = getattr(serialize, "ResponseSerializer", None)
    if json_serializer is None or base is None or not (
            _source_has(json_serializer._serialize_type_structure, "is_document_type",
                        "super()._serialize_type_structure(")
            and _source_has(base._serialize_type_structure, "wrapper: Any = self.MAP_TYPE()",
                            "self._serialize_structure_member(",
                            "self._default_serialize(serialized, wrapper, shape, key)")
            and _source_has(base._default_serialize,
                            "serialized[serialization_key] = value")
            and _source_has(json_serializer._serialize_type_string, "str(value)")):
        return
    original = json_serializer._serialize_type_structure

    def structure(self, serialized, value, shape, key):
        if key and getattr(shape, "name", None) == "AttributeValue" and not getattr(
                getattr(self, "_value_picker", None), "response_transformers", True):
            plain = _plain_attribute_value(value)
            if plain is not None:
                serialized[self.get_serialized_name(shape, key)] = plain
                return
        original(self, serialized, value, shape, key)

    _patch(json_serializer, "_serialize_type_structure", structure)


def _plan() -> list[tuple[object, str, object]]:
    global _PLANNED
    if _PLANNED is None:
        _PLANNED = []
        _share_botocore_loaders()
        _share_botocore_session()
        _remember_moto_aliases()
        _measure_items_once()
        _roll_back_only_touched_items()
        _serialize_attribute_values_directly()
    return _PLANNED


def _apply_speedups() -> None:
    for owner, name, value in _plan():
        _APPLIED.append((owner, name, getattr(owner, name)))
        setattr(owner, name, value)


def _undo_speedups() -> None:
    while _APPLIED:
        owner, name, original = _APPLIED.pop()
        setattr(owner, name, original)


@pytest.fixture
def _moto_speedups():
    if os.environ.get("CHORUS_TEST_NO_SPEEDUPS") or _APPLIED:
        yield
        return
    _apply_speedups()
    try:
        yield
    finally:
        _undo_speedups()


# -- fixtures ----------------------------------------------------------------------------------
@pytest.fixture
def dynamodb(_moto_speedups):
    """Fresh tables for each test (moto: single-threaded tests only)."""
    from moto import mock_aws

    from chalicelib.store import tables

    with mock_aws():
        tables.configure(endpoint=None, prefix="test-")
        tables.create_missing_tables()
        import boto3

        boto3.client("s3", region_name="us-east-1").create_bucket(Bucket="chorus-test-exports")
        yield
        tables.configure(endpoint=None)


class ApiClient:
    """Chalice's in-process client with JSON helpers."""

    def __init__(self, client):
        self.client = client

    def request(self, method: str, path: str, body=None, headers=None, raw: bytes | None = None):
        headers = {"Content-Type": "application/json", **(headers or {})}
        payload = raw if raw is not None else (json.dumps(body) if body is not None else None)
        response = self.client.http.request(method, path, headers=headers, body=payload)
        try:
            response.data = json.loads(response.body) if response.body else None
        except ValueError:  # not JSON (markdown export)
            response.data = None
        return response

    def get(self, path, **kw):
        return self.request("GET", path, **kw)

    def post(self, path, body=None, **kw):
        return self.request("POST", path, body, **kw)

    def put(self, path, body=None, **kw):
        return self.request("PUT", path, body, **kw)

    def patch(self, path, body=None, **kw):
        return self.request("PATCH", path, body, **kw)

    def delete(self, path, **kw):
        return self.request("DELETE", path, **kw)


TEST_STAGE_DIR = Path(__file__).parent / "chalice_stage"


@pytest.fixture
def api(dynamodb):
    """The test client applies a stage's environment to every request: ours has auth off."""
    from chalice.test import Client

    from app import app

    with Client(app, stage_name="test", project_dir=str(TEST_STAGE_DIR)) as client:
        yield ApiClient(client)


# -- a controllable clock ----------------------------------------------------------------------
class Clock:
    """chalicelib's clock, moved by the test: shifted (advance) or frozen, for every caller of
    chalicelib.clock.now_ms/now_iso in every thread (chalicelib.clock.set_test_clock)."""

    def __init__(self):
        from chalicelib import clock

        self._clock = clock
        self.offset_ms = 0
        self.frozen_ms: int | None = None

    def _set(self) -> None:
        self._clock.set_test_clock(self.offset_ms, self.frozen_ms)

    def ms(self) -> int:
        return self._clock.now_ms()

    def iso(self) -> str:
        return self._clock.now_iso()

    def advance(self, seconds: float) -> None:
        if self.frozen_ms is not None:
            self.frozen_ms += int(seconds * 1000)
        else:
            self.offset_ms += int(seconds * 1000)
        self._set()

    def advance_past(self, iso_or_ms, slack_ms: int = 1) -> None:
        """Move the clock just past a moment (an ISO string such as a lock's expires_at, or
        epoch milliseconds), if it is not already past."""
        if isinstance(iso_or_ms, str):
            from datetime import datetime

            moment = datetime.fromisoformat(iso_or_ms.replace("Z", "+00:00"))
            target = round(moment.timestamp() * 1000)
        else:
            target = int(iso_or_ms)
        gap = target + slack_ms - self.ms()
        if gap > 0:
            self.advance(gap / 1000)

    def freeze(self, at_ms: int | None = None) -> int:
        self.frozen_ms = self.ms() if at_ms is None else at_ms
        self._set()
        return self.frozen_ms

    def reset(self) -> None:
        self.offset_ms, self.frozen_ms = 0, None
        self._set()


@pytest.fixture
def clock():
    """Move time instead of sleeping: clock.advance(seconds), clock.advance_past(expires_at),
    clock.freeze(ms). Put back after the test."""
    moved = Clock()
    try:
        yield moved
    finally:
        moved.reset()
