"""newsflow's framework-free core: pure stage functions and I/O adapters.

Nothing here imports faust, aiokafka or the ``agents`` package (enforced by import-linter),
so every stage can run offline (``newsflow process``) exactly as it runs in the worker.
"""
