"""Translate: document translation with engines, translation memory and glossary."""
