"""Plumbing every app may use and that uses no app: the enqueue seam and templated email.

`core` sits below every Homeward app (docs/architecture.md); it must never import one.
"""
