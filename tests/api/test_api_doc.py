"""docs/api.md describes the API in words; its endpoint table must list exactly the
operations of /openapi.json, and its error table every code the API can answer."""
import re
from pathlib import Path

from chalicelib import errors
from tests.api.helpers import ok

DOC = Path(__file__).resolve().parents[2] / "docs" / "api.md"


def documented_endpoints() -> set[tuple[str, str]]:
    rows = re.findall(r"^\| `(GET|POST|PUT|PATCH|DELETE) (/[^`]*)` \|", DOC.read_text(), re.M)
    return {(method.lower(), path) for method, path in rows}


def test_the_endpoint_table_matches_the_openapi_document(api):
    document = ok(api.get("/openapi.json"))
    operations = {(method, path) for path, item in document["paths"].items()
                  for method in item if method in ("get", "post", "put", "patch", "delete")}
    assert documented_endpoints() == operations


def test_every_error_code_is_explained():
    codes = {cls.code for cls in vars(errors).values()
             if isinstance(cls, type) and issubclass(cls, errors.ChorusError)}
    text = DOC.read_text()
    assert [code for code in sorted(codes) if f"`{code}`" not in text] == []


def test_the_readme_links_it():
    readme = (DOC.parents[1] / "README.md").read_text()
    assert "docs/api.md" in readme and "/docs" in readme
