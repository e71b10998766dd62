"""The speed-ups of tests/api/conftest.py keep moto's DynamoDB behaviour: a cancelled
transaction still leaves nothing behind, the 400 KB item limit still holds, and responses
still carry each item's own attributes."""
from __future__ import annotations

import boto3
import pytest
from botocore.exceptions import ClientError

TABLE = "test-projects"


@pytest.fixture
def client(dynamodb):
    return boto3.client("dynamodb", region_name="us-east-1")


def item(client, key):
    return client.get_item(TableName=TABLE, Key={"id": {"S": key}}, ConsistentRead=True).get(
        "Item")


def test_a_cancelled_transaction_undoes_its_earlier_writes(client):
    client.put_item(TableName=TABLE, Item={"id": {"S": "a"}, "x": {"N": "1"}})
    client.put_item(TableName=TABLE, Item={"id": {"S": "c"}, "x": {"N": "3"}})
    with pytest.raises(ClientError) as raised:
        client.transact_write_items(TransactItems=[
            {"Put": {"TableName": TABLE, "Item": {"id": {"S": "b"}, "x": {"N": "2"}}}},
            {"Update": {"TableName": TABLE, "Key": {"id": {"S": "a"}},
                        "UpdateExpression": "SET x = :v", "ExpressionAttributeValues": {
                            ":v": {"N": "9"}}}},
            {"Delete": {"TableName": TABLE, "Key": {"id": {"S": "c"}}}},
            {"ConditionCheck": {"TableName": TABLE, "Key": {"id": {"S": "missing"}},
                                "ConditionExpression": "attribute_exists(id)"}},
        ])
    assert raised.value.response["Error"]["Code"] == "TransactionCanceledException"
    assert item(client, "b") is None
    assert item(client, "a")["x"] == {"N": "1"}
    assert item(client, "c")["x"] == {"N": "3"}


def test_a_successful_transaction_applies_every_write(client):
    client.put_item(TableName=TABLE, Item={"id": {"S": "a"}, "x": {"N": "1"}})
    client.transact_write_items(TransactItems=[
        {"Put": {"TableName": TABLE, "Item": {"id": {"S": "b"}, "x": {"N": "2"}},
                 "ConditionExpression": "attribute_not_exists(id)"}},
        {"Update": {"TableName": TABLE, "Key": {"id": {"S": "a"}},
                    "UpdateExpression": "SET x = :v",
                    "ExpressionAttributeValues": {":v": {"N": "5"}}}},
    ])
    assert item(client, "a")["x"] == {"N": "5"} and item(client, "b")["x"] == {"N": "2"}


def test_a_failed_condition_reports_the_old_item_and_changes_nothing(client):
    client.put_item(TableName=TABLE, Item={"id": {"S": "a"}, "x": {"N": "1"}})
    with pytest.raises(ClientError) as raised:
        client.transact_write_items(TransactItems=[
            {"Put": {"TableName": TABLE, "Item": {"id": {"S": "new"}}}},
            {"Update": {"TableName": TABLE, "Key": {"id": {"S": "a"}},
                        "UpdateExpression": "SET x = :v", "ConditionExpression": "x = :old",
                        "ExpressionAttributeValues": {":v": {"N": "2"}, ":old": {"N": "7"}},
                        "ReturnValuesOnConditionCheckFailure": "ALL_OLD"}},
        ])
    reasons = raised.value.response["CancellationReasons"]
    assert reasons[1]["Code"] == "ConditionalCheckFailed"
    assert reasons[1]["Item"]["x"] == {"N": "1"}
    assert item(client, "new") is None and item(client, "a")["x"] == {"N": "1"}


def test_the_400_kb_item_limit_still_holds(client):
    client.put_item(TableName=TABLE, Item={"id": {"S": "ok"}, "d": {"S": "x" * 390_000}})
    with pytest.raises(ClientError) as raised:
        client.put_item(TableName=TABLE, Item={"id": {"S": "big"}, "d": {"S": "x" * 200_000},
                                               "e": {"S": "y" * 210_000}})
    assert raised.value.response["Error"]["Code"] == "ValidationException"
    assert item(client, "big") is None


def test_responses_carry_each_items_own_attributes(client):
    client.put_item(TableName=TABLE, Item={"id": {"S": "a"}, "n": {"N": "1"},
                                           "l": {"L": [{"S": "x"}]}, "b": {"BOOL": True}})
    client.put_item(TableName=TABLE, Item={"id": {"S": "b"}, "s": {"S": "text"},
                                           "m": {"M": {"k": {"NULL": True}}}})
    assert item(client, "a") == {"id": {"S": "a"}, "n": {"N": "1"}, "l": {"L": [{"S": "x"}]},
                                 "b": {"BOOL": True}}
    assert item(client, "b") == {"id": {"S": "b"}, "s": {"S": "text"},
                                 "m": {"M": {"k": {"NULL": True}}}}
