"""Batches on a Dask cluster (the optional ``[cluster]`` extra).

The set travels to the workers once, as its checked AST, in a worker plugin that
compiles it on every worker — also on workers that join later — and tasks name it by
its fingerprint; a ``dask.bag`` path compiles through the same per-worker cache. Work
and results are the same plain data the local processes exchange, so every row equals
the single-process run's.
"""

from __future__ import annotations

from typing import Dict, List

from distributed import WorkerPlugin

from .batch import (BatchResult, _score_items, result_of, scorer_for, set_blob, set_fingerprint,
                    worker_cache)


class SetPlugin(WorkerPlugin):
    """A Dask worker plugin compiling the set once on every worker, including workers
    that join later."""

    def __init__(self, key: str, blob: bytes):
        self.key = key
        self.blob = blob
        self.name = f"indicator-set-{key[:16]}"

    def setup(self, worker):
        scorer_for(self.key, self.blob, worker_cache(worker))


def register_set(client, scorer) -> str:
    """Load the set on every worker of ``client`` (and on workers that join later);
    returns the key tasks name it by."""
    key = set_fingerprint(scorer)
    plugin = SetPlugin(key, set_blob(scorer))
    if hasattr(client, "register_plugin"):
        client.register_plugin(plugin, name=plugin.name)
    else:  # pragma: no cover - distributed before 2023.9
        client.register_worker_plugin(plugin, name=plugin.name)
    return key


class DaskExecutor:
    def __init__(self, client, scorer):
        self.client = client
        self.key = register_set(client, scorer)
        workers = len(client.scheduler_info().get("workers", {})) or 1
        self.limit = workers * 3

    def submit(self, items, options):
        future = self.client.submit(dask_chunk, self.key, items, options, pure=False)
        return future.result

    def close(self, abort=False):
        pass


def compiles_per_worker(client) -> Dict[str, Dict[str, int]]:
    """For each worker of ``client``, how many times it compiled each set."""
    def count(dask_worker):
        return dict(getattr(dask_worker, "_indicator_compiles", {}))
    return client.run(count)



def dask_chunk(key: str, items: list, options: dict, blob=None) -> List[dict]:
    return _score_items(scorer_for(key, blob), items, options)


def score_bag(scorer, bag):
    """A ``dask.bag`` of fact mappings (or ``Facts``) → a bag of :class:`BatchResult`
    (in the same order), the set compiled once per worker."""
    import dask

    key = set_fingerprint(scorer)
    blob = dask.delayed(set_blob(scorer), pure=True)
    codes = [node.code for node in scorer.checked.walk()]
    return bag.map_partitions(_bag_partition, key, blob, codes)


def _bag_partition(values, key, blob, codes) -> List[BatchResult]:
    scorer = scorer_for(key, blob)
    items = [("facts", value, i) for i, value in enumerate(values)]
    return [result_of(record, codes, -1) for record in _score_items(scorer, items, {})]
