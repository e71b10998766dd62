"""HTTP layer: request parsing and validation, responses, the endpoint table, OpenAPI."""
