"""The API's reference page: Mend's own HTML drawn from the OpenAPI document (mend.web.apidocs).

It replaced Swagger UI, whose page had no language, low-contrast text and controls nested in
controls (axe-core, serious), and which needs inline styles the Content-Security-Policy refuses.
"""

from __future__ import annotations

import re

import pytest

from mend.web.apidocs import TypeText, type_text

pytestmark = pytest.mark.django_db


def test_every_operation_and_schema_of_the_openapi_document_is_on_the_page(client):
    document = client.get("/api/v1/openapi.json").json()
    page = client.get("/api/v1/docs")
    assert page.status_code == 200
    html = page.content.decode()
    assert re.search(r'<html lang="en"', html)
    for path, item in document["paths"].items():
        for method in item:
            assert f'<span class="api-method">{method.upper()}</span> {path}</code>' in html, (method, path)
    for name in document["components"]["schemas"]:
        assert f'id="schema-{name}"' in html, name
    # Every link to a schema lands on its heading.
    for target in set(re.findall(r'href="#(schema-[^"]+)"', html)):
        assert f'id="{target}"' in html, target
    assert 'href="/api/v1/openapi.json"' in html
    assert "<script" not in html.split("</header>", 1)[1].split("<footer", 1)[0]


def test_a_signed_in_person_sees_the_page_in_the_site_layout(login):
    html = login("therapist").get("/api/v1/docs").content.decode()
    assert 'aria-label="Main"' in html
    assert "Authorization: Bearer &lt;token&gt;" in html


def test_the_page_reads_nothing_from_the_database(client, django_assert_num_queries):
    with django_assert_num_queries(0):
        assert client.get("/api/v1/docs").status_code == 200


@pytest.mark.parametrize(
    ("schema", "expected"),
    [
        ({"type": "string"}, TypeText(name="string")),
        ({"anyOf": [{"type": "string"}, {"type": "null"}]}, TypeText(name="string", suffix=" or null")),
        ({"type": "array", "items": {"$ref": "#/components/schemas/X"}}, TypeText("list of ", "X", ref=True)),
        ({"type": "integer", "minimum": 1, "maximum": 100}, TypeText(name="integer (at least 1, at most 100)")),
        ({"type": "string", "format": "date"}, TypeText(name="string (date)")),
        ({"enum": ["left", "right"]}, TypeText(name="one of left, right")),
        ({}, TypeText(name="any")),
    ],
)
def test_types_read_in_words(schema, expected):
    assert type_text(schema) == expected
