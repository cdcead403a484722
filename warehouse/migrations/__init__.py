"""Numbered SQL migrations of the warehouse schema, applied by warehouse.schema.migrate."""
