"""Portico."""
