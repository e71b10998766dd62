"""The in-process API tests use the fixtures of tests/conftest.py: `api` and `dynamodb` (fresh
moto tables per test, with moto's speed-ups applied while the test runs) and `clock`."""
