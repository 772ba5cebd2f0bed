"""No index that another already covers: every index is written on every insert (the bill run writes
tens of thousands of rows a batch), so one that a composite index or unique constraint leading with
the same column makes useless only costs. Read from the model registry, so a new model is checked too.
"""

from django.apps import apps
from django.db import models


def _composites_led_by(model) -> dict[str, list[str]]:
    """Columns that lead a multi-column index or unique constraint usable for any lookup (not partial)."""
    led: dict[str, list[str]] = {}
    for index in model._meta.indexes:
        if len(index.fields) > 1 and index.condition is None:
            led.setdefault(index.fields[0].lstrip("-"), []).append(index.name)
    for constraint in model._meta.constraints:
        unique = isinstance(constraint, models.UniqueConstraint)
        if unique and len(constraint.fields) > 1 and constraint.condition is None:
            led.setdefault(constraint.fields[0], []).append(constraint.name)
    for fields in model._meta.unique_together:
        if len(fields) > 1:
            led.setdefault(fields[0], []).append("unique_together")
    return led


def test_no_single_column_index_is_covered_by_a_composite_one():
    redundant = []
    for model in apps.get_models():
        if not model.__module__.startswith("portico."):
            continue
        led = _composites_led_by(model)
        for field in model._meta.concrete_fields:
            if field.db_index and not field.primary_key and not field.unique and field.name in led:
                redundant.append(f"{model._meta.label}.{field.name} (led by {', '.join(led[field.name])})")
    assert not redundant, "set db_index=False on these (a composite index leads with them):\n" + "\n".join(
        redundant
    )


def test_the_guard_sees_a_covered_index():
    class Probe(models.Model):
        owner = models.ForeignKey("core.Organization", on_delete=models.CASCADE, related_name="+")
        number = models.CharField(max_length=10)

        class Meta:
            app_label = "core"
            constraints = [models.UniqueConstraint(fields=["owner", "number"], name="probe_unique")]

    try:
        assert _composites_led_by(Probe) == {"owner": ["probe_unique"]}
        assert Probe._meta.get_field("owner").db_index
    finally:
        apps.all_models["core"].pop("probe", None)
        apps.clear_cache()
