"""Writer process for test_crash.py: applies a deterministic stream of writes and
acknowledges each one on stdout after the engine returned.

    python crash_writer.py PATH SEED START_OP SYNC VALUE_BYTES WRITE_BUFFER_SIZE [READS]

Op i of the stream depends only on (SEED, i), so the parent can replay exactly what
was acknowledged. Each acknowledgement is one line "ack <i>", flushed at once.

With READS=1 the database is opened without bloom filters and every write is followed
by 40 reads checked against the writer's own model (loaded by a scan at open): reads
that probe files in vain drive seek compactions, so kills also land in those. Every
10 ops the writer prints "seek-compactions <n>" (the engine's counter).
"""

import random
import sys

NUM_KEYS = 64


def key(i):
    # Keys hold \x00 and \xff, as real keys may.
    return b"key\x00" + bytes([i]) + b"\xff"


def op(seed, i, value_bytes):
    """The i-th operation of stream `seed`: a list of (key, value-or-None) applied
    atomically (one put, one delete, or a batch)."""
    rng = random.Random(seed * 1_000_003 + i)
    tag = b"s%d-op%d-" % (seed, i)  # unique per op: a stale value can never pass for a new one
    r = rng.random()
    n = 1 if r < 0.8 else rng.randrange(2, 6)
    out = []
    for j in range(n):
        k = key(rng.randrange(NUM_KEYS))
        if rng.random() < 0.15:
            out.append((k, None))
        else:
            out.append((k, tag + b"%d-" % j + b"x" * rng.randrange(value_bytes // 2, value_bytes)))
    return out


def apply(model, ops):
    for k, v in ops:
        if v is None:
            model.pop(k, None)
        else:
            model[k] = v


def main():
    path, seed, start, sync, value_bytes, wbs = sys.argv[1:7]
    seed, start, value_bytes, wbs = int(seed), int(start), int(value_bytes), int(wbs)
    sync = sync == "1"
    reads = len(sys.argv) > 7 and sys.argv[7] == "1"
    from tinykv import storage

    extra = {"bloom_bits_per_key": 0} if reads else {}
    db = storage.DB.open(path, write_buffer_size=wbs, target_file_size=max(wbs, 16 << 10),
                         max_bytes_for_level_base=4 * wbs, **extra)
    model = dict(db.scan()) if reads else {}
    rng = random.Random(seed)
    out = sys.stdout
    i = start
    while True:
        ops = op(seed, i, value_bytes)
        if len(ops) == 1:
            k, v = ops[0]
            if v is None:
                db.delete(k, sync=sync)
            else:
                db.put(k, v, sync=sync)
        else:
            b = storage.WriteBatch()
            for k, v in ops:
                if v is None:
                    b.delete(k)
                else:
                    b.put(k, v)
            db.write(b, sync=sync)
        out.write("ack %d\n" % i)
        out.flush()
        if reads:
            apply(model, ops)
            for _ in range(40):
                k = key(rng.randrange(NUM_KEYS))
                got = db.get(k)
                if got != model.get(k):
                    sys.exit(f"read of {k!r} after op {i} returned {got!r:.40}, "
                             f"expected {model.get(k)!r:.40}")
            if i % 10 == 0:
                out.write("seek-compactions %d\n" % db.stats()["seek-compactions"])
                out.flush()
        i += 1


if __name__ == "__main__":
    main()
