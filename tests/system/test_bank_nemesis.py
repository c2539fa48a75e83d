"""The bank workload (workload.py ``Bank``) under the nemesis of test_nemesis.py (nodes
killed, paused, partitioned and healed at random): transfer transactions between eight
accounts and read-all transactions, each thread with its own client; every snapshot a
reader got has every account, the same total and no negative balance -- whatever the
faults did to transactions in flight (a commit that timed out is applied whole or not
at all; a client's locks left behind are resolved by others). After the faults are
healed, transfers and reads make progress again.

    TINYKV_BANK_SECONDS=300 .venv/bin/python -m pytest tests/system/test_bank_nemesis.py -s
"""

import os
import random
import threading
import time

from tinykv import testing
from workload import Bank, nemesis_loop

SECONDS = float(os.environ.get("TINYKV_BANK_SECONDS", "40"))


def test_bank_total_holds_under_the_nemesis(system_ready, tmp_path, seed):
    print(f"seed={seed} seconds={SECONDS}")
    with testing.Cluster(n=3, data_dir=tmp_path / "c") as cluster:
        cluster.leader()
        log: list[str] = []
        stop = threading.Event()
        nemesis = threading.Thread(target=nemesis_loop,
                                   args=(cluster, random.Random(seed), stop, log), daemon=True)
        with Bank(cluster, accounts=8, initial=100, transferers=4, readers=2, seed=seed,
                  timeout=3.0, lock_ttl=1.0) as bank:
            bank.wait_for(transfers=5, reads=5, timeout=30)
            nemesis.start()
            time.sleep(SECONDS)  # the faults run meanwhile
            stop.set()
            nemesis.join(120)
            # Healed: progress again, within a bound that covers an election and the
            # lock TTL of transactions cut off by the last fault.
            before = dict(bank.counts)
            bank.wait_for(transfers=before["transfers"] + 10, reads=before["reads"] + 5,
                          timeout=30)
        print("\n".join(log))
        print(bank.counts)
        assert bank.violations() == []
        final = cluster.client(timeout=10.0).scan_prefix(bank.prefix)
        assert bank.check(final) == []
