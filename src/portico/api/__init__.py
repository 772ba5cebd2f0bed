"""The business API (`/api/v1/`, django-ninja): API keys per organization (`models`, `services`),
the key middleware that activates the key's organization, checks its scope and rate limit and
serves POSTs through their idempotency record (`middleware`, `ratelimit`, `idempotency`), one
error body (`errors`, `validation`), public ids (`ids`), the list envelope (`schemas`), and the
resources (`resources/`). How to add a resource: docs/api.md, "How to add a resource"."""
