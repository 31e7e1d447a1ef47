"""Faust wiring: each module registers one agent that calls one pipeline function.

The topology is drawn in :mod:`agents.topics`. Nothing here reads configuration: the
process edge (``newsflow worker``) resolves settings and calls :func:`agents.app.create_app`.
"""
