"""Speed-ups for the in-process API tests. They change no behaviour that a test can observe.

The `api`/`dynamodb` fixtures of tests/conftest.py give each test fresh moto tables. A few
costs of moto/pynamodb dominate there and are pure overhead, so this module removes them for
tests/api only (each patch checks the library source it replaces and stays off if it differs):

* every pynamodb connection makes its own botocore session, which re-reads botocore's JSON
  service models (~1 s per test for seven sessions). One shared session reads them once.
* moto replaces boto3's default session in every test, so each boto3.client("s3") builds a
  new botocore loader that parses the service models again (~0.25 s); loaders are shared.
* moto's TransactWriteItems deep-copies every table it touches before it starts (to roll back
  on failure), so each transaction costs O(table size) and building a 5000-task project costs
  O(n^2). Here only the items the transaction names are copied, and put back on failure.
* moto's Item() checks the 400 KB item limit by re-measuring every attribute each time it adds
  one (O(attributes^2) per item); the same check is done with a running total.
* moto 5.2's response serializer works out the same attribute aliases again for every
  attribute of every item it returns (~35 ms per GetItem of a task). For plain dicts the
  aliases depend only on the shape and the key, so they are remembered.

CHORUS_TEST_NO_SPEEDUPS=1 runs the tests on plain moto (test_moto_speedups.py checks both).
"""
from __future__ import annotations

import functools
import inspect

import pytest


_PATCHES: list[tuple[object, str, object]] = []


def _patch(owner, name: str, value) -> None:
    """Set owner.name, remembering the original so the package's teardown can put it back."""
    _PATCHES.append((owner, name, getattr(owner, name)))
    setattr(owner, name, value)


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


@pytest.fixture(scope="package", autouse=True)
def _fast_moto():
    import os

    if os.environ.get("CHORUS_TEST_NO_SPEEDUPS"):  # compare with plain moto when in doubt
        yield
        return
    _share_botocore_loaders()
    _share_botocore_session()
    _remember_moto_aliases()
    _measure_items_once()
    _roll_back_only_touched_items()
    yield
    while _PATCHES:  # tests outside tests/api (DynamoDB Local, threads) get the libraries as-is
        owner, name, original = _PATCHES.pop()
        setattr(owner, name, original)


# -- a controllable clock ------------------------------------------------------------------
class Clock:
    """Shifts (or freezes) chalicelib's clock wherever `now_ms`/`now_iso` were imported."""

    def __init__(self):
        import time

        self._time = time
        self.offset_ms = 0
        self.frozen_ms: int | None = None

    def ms(self) -> int:
        if self.frozen_ms is not None:
            return self.frozen_ms
        return self._time.time_ns() // 1_000_000 + self.offset_ms

    def iso(self) -> str:
        from datetime import datetime, timedelta, timezone

        if self.frozen_ms is not None:
            from chalicelib.clock import iso_from_ms

            return iso_from_ms(self.frozen_ms)
        moment = datetime.now(timezone.utc) + timedelta(milliseconds=self.offset_ms)
        return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")

    def advance(self, seconds: float) -> None:
        if self.frozen_ms is not None:
            self.frozen_ms += int(seconds * 1000)
        else:
            self.offset_ms += int(seconds * 1000)

    def freeze(self, at_ms: int | None = None) -> int:
        self.frozen_ms = self.ms() if at_ms is None else at_ms
        return self.frozen_ms


@pytest.fixture
def clock(monkeypatch):
    import importlib
    import sys

    from chalicelib import clock as real

    for name in ("services.locks", "services.operations", "services.queues",
                 "services.projects", "services.context", "services.tasks",
                 "services.maintenance", "services.transfer", "store.transfer",
                 "services.tokens"):
        importlib.import_module(f"chalicelib.{name}")
    fake = Clock()
    real_ms, real_iso = real.now_ms, real.now_iso
    for name, module in list(sys.modules.items()):
        if not (name == "chalicelib" or name.startswith("chalicelib.")) or module is None:
            continue
        if getattr(module, "now_ms", None) is real_ms:
            monkeypatch.setattr(module, "now_ms", fake.ms)
        if getattr(module, "now_iso", None) is real_iso:
            monkeypatch.setattr(module, "now_iso", fake.iso)
    return fake
