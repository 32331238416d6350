"""A build, from source to -C tree: one room per concern.

- :mod:`.layout`: the on-disk layout (state file, manifests, trees) and its one reader of each;
- :mod:`.recipe`: what one output is (its seed, its pixels, whether its annotations move) and the
  identity a rerun must share;
- :mod:`.shard`: the shard worker; :mod:`.executors`: inline, process pool or Dask; :mod:`.lock`;
- :mod:`.engine`: orchestration (plan, resume, summarise); :mod:`.verify`; :mod:`.progress`.

Where output bytes go is :mod:`corruptgen.writers`; what a dataset is, :mod:`corruptgen.datasets`.
"""
