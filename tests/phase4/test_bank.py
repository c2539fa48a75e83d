"""The bank workload (tests/system/workload.py ``Bank``) on a healthy 3-node cluster:
concurrent transfer transactions between five accounts, retried on write conflicts,
while two readers read all accounts in one transaction each. Every snapshot read has
the same total and no negative balance: transfers are atomic, snapshots consistent,
and no update is lost (two transfers from one account conflict rather than both
spending its balance). tests/system/test_bank_nemesis.py runs it under faults."""

from workload import Bank


def test_bank_transfers_keep_the_total_in_every_snapshot(cluster, ns):
    with Bank(cluster, prefix=ns, accounts=5, initial=100, transferers=3, readers=2,
              timeout=10.0) as bank:
        bank.wait_for(transfers=300, reads=100, timeout=90)
    print(bank.counts)
    assert bank.violations() == []
    assert bank.count("errors") == 0, bank.errors[-5:]
    final = cluster.client().scan_prefix(ns)
    assert bank.check(final) == []
    assert final != [(k, b"100") for k in bank.keys]  # money moved
