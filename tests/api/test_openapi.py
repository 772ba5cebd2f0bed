"""The OpenAPI 3.1 document and the interactive docs are served without a key."""

from django.test import Client


def test_the_openapi_document_is_3_1_with_bearer_keys_and_the_error_body(db):
    response = Client(HTTP_HOST="localhost").get("/api/v1/openapi.json")
    assert response.status_code == 200
    document = response.json()
    assert document["openapi"].startswith("3.1")
    assert document["components"]["securitySchemes"]["ApiKeyAuth"] == {"type": "http", "scheme": "bearer"}
    create = document["paths"]["/api/v1/customers"]["post"]
    assert {"201", "401", "403", "404", "409", "422", "429"} <= set(create["responses"])
    assert "ErrorBody" in document["components"]["schemas"]


def test_the_docs_page_uses_our_own_static_files(db):
    response = Client(HTTP_HOST="localhost").get("/api/v1/docs")
    assert response.status_code == 200
    assert b"swagger-ui-bundle.js" in response.content and b"cdn" not in response.content.lower()
