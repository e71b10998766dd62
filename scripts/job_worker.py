"""The local stand-in for the job worker Lambda: reads the jobs table's stream on DynamoDB
Local and hands each record's new image to the same function the Lambda runs
(chalicelib.services.jobs.on_job_records), so `make run` runs jobs exactly as AWS does.

DynamoDB Local has streams (shards, iterators, GetRecords) like DynamoDB; this polls every
open shard, finds new shards as they appear, and runs jobs on a small thread pool so a long
import does not hold back a cancel.
"""
from __future__ import annotations

import json
import threading
import time
from concurrent.futures import ThreadPoolExecutor

POLL_SECONDS = 0.5
DESCRIBE_SECONDS = 10.0
WORKERS = 2


class JobStreamWorker:
    def __init__(self, endpoint: str, region: str):
        import boto3

        from chalicelib.store.tables import JobItem

        self.table = JobItem.Meta.table_name
        self.dynamodb = boto3.client("dynamodb", endpoint_url=endpoint, region_name=region)
        self.streams = boto3.client("dynamodbstreams", endpoint_url=endpoint,
                                    region_name=region)
        self.pool = ThreadPoolExecutor(WORKERS, thread_name_prefix="job")
        self.iterators: dict[str, str | None] = {}  # shard id -> next iterator (None: done)
        self.stream_arn = ""
        self._started_once = False
        self.last_sequence: dict[str, str] = {}

    def _discover(self) -> None:
        self.stream_arn = self.dynamodb.describe_table(
            TableName=self.table)["Table"]["LatestStreamArn"]
        shards = self.streams.describe_stream(StreamArn=self.stream_arn)["StreamDescription"]
        # shards open when we start: from now on (jobs left running are picked up at start);
        # shards that appear later: from their beginning
        kind = "TRIM_HORIZON" if self._started_once else "LATEST"
        for shard in shards.get("Shards", []):
            shard_id = shard["ShardId"]
            if shard_id in self.iterators:
                continue
            self.iterators[shard_id] = self.streams.get_shard_iterator(
                StreamArn=self.stream_arn, ShardId=shard_id,
                ShardIteratorType=kind)["ShardIterator"]
        self._started_once = True

    def _dispatch(self, images: list[dict]) -> None:
        from chalicelib.services.jobs import on_job_records

        for image in images:
            self.pool.submit(self._run, on_job_records, image)

    @staticmethod
    def _run(handler, image: dict) -> None:
        try:
            handler([image])
        except Exception as error:  # the job's lease lapses and the sweep wakes it again
            print(json.dumps({"event": "job_worker_failed", "error": str(error)[:300]}),
                  flush=True)

    def _reposition(self, shard_id: str) -> str:
        """A fresh iterator just after the last record read (DynamoDB Local's iterators
        over an empty shard go stale: TrimmedDataAccessException)."""
        last = self.last_sequence.get(shard_id)
        kwargs = ({"ShardIteratorType": "AFTER_SEQUENCE_NUMBER", "SequenceNumber": last}
                  if last else {"ShardIteratorType": "TRIM_HORIZON"})
        return self.streams.get_shard_iterator(StreamArn=self.stream_arn, ShardId=shard_id,
                                               **kwargs)["ShardIterator"]

    def poll_once(self) -> int:
        from botocore.exceptions import ClientError

        seen = 0
        for shard_id, iterator in list(self.iterators.items()):
            if iterator is None:
                continue
            try:
                answer = self.streams.get_records(ShardIterator=iterator, Limit=100)
            except ClientError as error:
                if error.response["Error"]["Code"] not in ("TrimmedDataAccessException",
                                                           "ExpiredIteratorException"):
                    raise
                answer = self.streams.get_records(ShardIterator=self._reposition(shard_id),
                                                  Limit=100)
            self.iterators[shard_id] = answer.get("NextShardIterator")
            records = answer.get("Records", [])
            if records:
                self.last_sequence[shard_id] = records[-1]["dynamodb"]["SequenceNumber"]
            images = [record["dynamodb"]["NewImage"] for record in records
                      if "NewImage" in record.get("dynamodb", {})]
            seen += len(images)
            self._dispatch(images)
        return seen

    def run(self, stop: threading.Event) -> None:
        from chalicelib.services.jobs import run_pending

        self._discover()
        self.pool.submit(self._run, lambda _images: run_pending(), {})  # jobs left running
        described = time.monotonic()
        while not stop.is_set():
            try:
                if time.monotonic() - described > DESCRIBE_SECONDS:
                    self._discover()
                    described = time.monotonic()
                if not self.poll_once():
                    stop.wait(POLL_SECONDS)
            except Exception as error:  # DynamoDB Local restarting: try again shortly
                print(json.dumps({"event": "job_stream_failed", "error": str(error)[:300]}),
                      flush=True)
                stop.wait(2.0)
        self.pool.shutdown(wait=False, cancel_futures=True)


def start(endpoint: str, region: str, stop: threading.Event) -> threading.Thread:
    worker = JobStreamWorker(endpoint, region)
    thread = threading.Thread(target=worker.run, args=(stop,), daemon=True, name="job-stream")
    thread.start()
    return thread
