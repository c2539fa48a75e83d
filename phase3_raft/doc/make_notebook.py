import nbformat as nbf

nb = nbf.v4.new_notebook()
cells = []
md = lambda s: cells.append(nbf.v4.new_markdown_cell(s))
code = lambda s: cells.append(nbf.v4.new_code_cell(s))

md("""# Phase 3 — Raft, watched through the deterministic simulator

**Goal.** See the Raft core at work: elections and re-elections under partitions,
how logs converge, why a leader may not commit old-term entries by counting
(the paper's Figure 8), how a lagging node is brought back with a snapshot, and
how membership changes with a learner and joint consensus.

**Prerequisites.** `tinykv` installed (`bash scripts/build.sh`). Paper: Ongaro &
Ousterhout, *In Search of an Understandable Consensus Algorithm* (§5.2 elections,
§5.3 replication, §5.4.2 / Figure 8, §7 snapshots) and Ongaro's dissertation
(ch. 4 membership, §9.6 pre-vote).

**Runtime.** A few seconds. Everything is driven by `tinykv.raft.SimCluster`: the same
C++ core as the server, with virtual time in ticks and a fixed seed, so every run
draws the same pictures.""")

code("""import matplotlib.pyplot as plt
from matplotlib.colors import ListedColormap
from tinykv import raft

ROLE_Y = {"follower": 0, "pre_candidate": 1, "candidate": 2, "leader": 3}""")

md("""## 1. Elections under partitions

Five nodes, election timeout 10 ticks (randomized in [10, 20)). We record every
node's role and term at each tick while we isolate the leader, heal, then split
the cluster 2 / 3 with the leader on the small side. **What to look for:** the isolated leader steps down by itself
(check-quorum) and its term does not run away while it is alone (pre-vote); the
majority side elects a new leader within about one election timeout; the minority
never elects anyone.""")

code("""c = raft.SimCluster(n=5, seed=3)
history = []          # (tick, node, role, term)
marks = []            # (tick, label)

def run(ticks):
    for _ in range(ticks):
        c.tick()
        for i in c.nodes():
            n = c.node(i)
            history.append((c.now, i, n.role, n.term))

run(40)
first = c.leader()
marks.append((c.now, f"isolate leader {first}"))
c.partition([[first], [i for i in c.nodes() if i != first]])
run(60)
marks.append((c.now, "heal"))
c.heal()
run(30)
second = c.leader()
minority = [second, second % 5 + 1]
marks.append((c.now, f"split {minority} | rest"))
c.partition([minority, [i for i in c.nodes() if i not in minority]])
run(60)
marks.append((c.now, "heal"))
c.heal()
run(30)
print("leaders:", sorted({(t, i) for (_, i, r, t) in history if r == "leader"}))
print("violations:", c.violations())""")

code("""fig, (ax1, ax2) = plt.subplots(2, 1, figsize=(11, 6), sharex=True)
for i in c.nodes():
    pts = [(t, ROLE_Y[r] + (i - 3) * 0.08) for (t, n, r, _) in history if n == i]
    ax1.step([p[0] for p in pts], [p[1] for p in pts], where="post", label=f"S{i}")
    terms = [(t, term) for (t, n, _, term) in history if n == i]
    ax2.step([p[0] for p in terms], [p[1] for p in terms], where="post", label=f"S{i}")
ax1.set_yticks(list(ROLE_Y.values()), list(ROLE_Y.keys()))
ax1.set_title("role per node"); ax2.set_title("term per node")
for t, label in marks:
    for ax in (ax1, ax2):
        ax.axvline(t, color="grey", ls=":")
    ax1.text(t, 3.4, label, fontsize=8, rotation=0)
ax2.set_xlabel("tick"); ax1.legend(ncol=5, fontsize=8, loc="lower right")
plt.tight_layout(); plt.show()""")

md("""The trace records the same transitions as stable, greppable lines
(`tick=… node=… term=… became leader`):""")

code("""for line in c.trace_lines():
    if "became leader" in line or "partition" in line or "heal" in line:
        print(line)""")

md("""## 2. The log of every node, coloured by term

Proposals while the cluster is partitioned leave uncommitted entries on the
minority; after healing, the leader overwrites them (§5.3, Log Matching). Each
row is a node, each column a log index; the colour is the entry's term. Look at
the rows before and after healing: divergent tails disappear.""")

code("""def log_matrix(c, title, ax):
    logs = {i: c.log(i) for i in c.nodes()}
    last = max((e[0] for l in logs.values() for e in l), default=0)
    first = min((e[0] for l in logs.values() for e in l), default=1)
    grid = [[0] * (last - first + 1) for _ in logs]
    for row, i in enumerate(sorted(logs)):
        for (idx, term, _) in logs[i]:
            grid[row][idx - first] = term
    cmap = ListedColormap(["#ffffff"] + list(plt.cm.tab10.colors))
    ax.imshow(grid, cmap=cmap, vmin=0, vmax=10, aspect="auto", interpolation="nearest")
    ax.set_yticks(range(len(logs)), [f"S{i}" for i in sorted(logs)])
    ax.set_xticks(range(last - first + 1), range(first, last + 1))
    ax.set_xlabel("log index"); ax.set_title(title)
    for row, i in enumerate(sorted(logs)):
        for (idx, term, _) in logs[i]:
            ax.text(idx - first, row, term, ha="center", va="center", fontsize=7)

c = raft.SimCluster(n=5, seed=4)
c.run_until(lambda: c.leader() is not None, 200)
for k in range(4):
    c.propose(b"a%d" % k); c.tick(2)
old = c.leader()
c.partition([[old, old % 5 + 1], [i for i in c.nodes() if i not in (old, old % 5 + 1)]])
for k in range(5):
    c.propose(b"lost%d" % k, node=old)
c.tick(40)
for k in range(3):
    c.propose(b"b%d" % k); c.tick(2)
fig, axes = plt.subplots(2, 1, figsize=(11, 5))
log_matrix(c, "partitioned: the old leader's minority holds uncommitted entries", axes[0])
c.heal(); c.tick(30)
log_matrix(c, "healed: every log equals the leader's", axes[1])
plt.tight_layout(); plt.show()
print("applied on every node:", [len(c.applied(i)) for i in c.nodes()], c.applied(1))""")

md("""## 3. Figure 8, step by step

`raft.figure8_scenario()` scripts the paper's Figure 8 on five nodes (one entry
per message, one tick of delay). In step (c) the entry **X** (from an older
term) sits on a majority, yet the leader's commit index stays below it:
§5.4.2 forbids committing old-term entries by counting replicas. In step (d)
another leader legally overwrites X — had it been committed, a committed entry
would have been lost.""")

code("""steps = []
c8, facts = raft.figure8_scenario(snapshots=steps)
print(facts)

def draw(ax, label, logs):
    last = max(e[0] for l in logs.values() for e in l)
    first = min(e[0] for l in logs.values() for e in l)
    cmap = ListedColormap(["#ffffff"] + list(plt.cm.tab10.colors))
    grid = [[0] * (last - first + 1) for _ in logs]
    for row, i in enumerate(sorted(logs)):
        for (idx, term, data) in logs[i]:
            grid[row][idx - first] = term
            ax.text(idx - first, row, data.decode() or term, ha="center", va="center", fontsize=8)
    ax.imshow(grid, cmap=cmap, vmin=0, vmax=10, aspect="auto")
    ax.set_yticks(range(len(logs)), [f"S{i}" for i in sorted(logs)])
    ax.set_xticks(range(last - first + 1), range(first, last + 1))
    ax.set_title(label, fontsize=9)

fig, axes = plt.subplots(1, len(steps), figsize=(3.2 * len(steps), 3))
for ax, (label, logs) in zip(axes, steps):
    draw(ax, label, logs)
plt.tight_layout(); plt.show()
assert facts["s1_commit_c"] < facts["x_index"] and c8.violations() == []""")

md("""## 4. A snapshot brings a lagging node back

A follower is cut off while 60 entries commit; the leader then compacts its log
(snapshot + truncation). When the follower returns, its next entries no longer
exist on the leader, so the leader sends one `MsgSnap` (§7). Watch the message
counts: one snapshot, no resend loop.""")

code("""c = raft.SimCluster(n=3, seed=31)
c.run_until(lambda: c.leader() is not None, 200)
leader = c.leader(); lag = [i for i in c.nodes() if i != leader][0]
c.partition([[lag], [i for i in c.nodes() if i != lag]])
for k in range(60):
    c.propose(b"s%d" % k)
c.tick(5)
c.compact(leader, c.node(leader).applied_index)
print("leader log now starts at", c.node(leader).first_index, "; lagging node last index", c.node(lag).last_index)
c.reset_stats(); c.heal()
c.run_until(lambda: len(c.applied(lag)) == 60, 100)
print("messages after healing:", c.stats()["messages"])
print([e for e in c.trace() if e["event"] in ("installed snapshot", "compacted")])""")

md("""## 5. Membership: a learner catches up, is promoted, then a joint change

A new node joins as a **learner** (it receives the log but never votes), is
promoted to voter once caught up, and finally two old voters are swapped out in a
single **joint consensus** change (C_old,new, then C_new automatically).""")

code("""c = raft.SimCluster(n=3, seed=38)
c.run_until(lambda: c.leader() is not None, 200)
c.set_faults(delay=(1, 1))  # one tick per message, so the steps spread out in time
for k in range(10):
    c.propose(b"m%d" % k); c.tick(1)
timeline = []
def note(what):
    timeline.append((c.now, what, c.members(c.leader())))
c.add_member(4, learner=True); note("add learner 4")
c.run_until(lambda: len(c.applied(4)) == 10, 100); note("4 caught up")
c.promote(4); note("promote 4")
c.add_member(5, learner=True); note("add learner 5")
leader = c.leader()
gone = [i for i in (1, 2, 3) if i != leader][:2]
c.change_members(add=[5], remove=gone); note(f"joint: +5 -{gone}")
c.run_until(lambda: not c.members(c.leader())["voters_outgoing"], 100); note("left joint")
for t, what, m in timeline:
    print(f"tick {t:4d}  {what:22s} voters={m['voters']} outgoing={m['voters_outgoing']} learners={m['learners']}")
print([e["detail"] for e in c.trace() if e["event"] == "applied conf change" and e["node"] == c.leader()])
print("violations:", c.violations())""")

nb["cells"] = cells
nb["metadata"] = {"kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
                  "language_info": {"name": "python"}}
nbf.write(nb, "notebooks/03_raft.ipynb")
