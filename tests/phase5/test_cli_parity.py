"""The shipped ``tinykv`` CLI's etcdctl parity against a real 3-node cluster of
tinykv-server processes (tinykv.testing.Cluster): get/del of a range and --from-key,
--print-value-only, --count-only, -w fields, etcd's response header in -w json,
TINYKV_<FLAG> variables, cobra's unknown
command error, per-command help with the global flags, and the bash completion script
sourced in bash."""

import json
import os
import shutil
import subprocess

import pytest

from tinykv.testing import find_cli_binary


@pytest.fixture(scope="module")
def exe():
    return find_cli_binary()


@pytest.fixture
def tk(exe, cluster):
    """``tinykv args...``: --endpoints of the cluster unless `env` names TINYKV_ENDPOINTS;
    no TINYKV_* variable from the outside, only those of `env`."""
    cluster.client(timeout=10.0).delete_range(b"", b"")

    def run(*args, env=None, stdin=None):
        environ = {k: v for k, v in os.environ.items() if not k.startswith("TINYKV_")}
        environ.update(env or {})
        cmd = [exe]
        if "TINYKV_ENDPOINTS" not in environ:
            cmd += ["--endpoints", ",".join(cluster.endpoints), "--command-timeout", "20s"]
        return subprocess.run(cmd + list(args), input=stdin, capture_output=True, text=True,
                              env=environ, timeout=60)
    return run


def ok(p) -> str:
    assert p.returncode == 0, (p.returncode, p.stderr)
    return p.stdout


def test_get_and_del_take_a_range_end_or_from_key(tk):
    for k in ("a", "b", "b/1", "b/2", "c", "d"):
        ok(tk("put", k, "v" + k))
    assert ok(tk("get", "b", "c", "--keys-only")).split() == ["b", "b/1", "b/2"]
    assert ok(tk("get", "c", "--from-key")) == "c\nvc\nd\nvd\n"
    assert ok(tk("get", "b/", "--prefix", "--print-value-only")) == "vb/1\nvb/2\n"
    assert ok(tk("get", "", "--from-key", "--count-only")) == "6\n"
    assert ok(tk("get", "b", "--prefix", "--count-only", "--limit", "1")) == "3\n"
    assert ok(tk("get", "nokey", "--count-only")) == "0\n"
    assert ok(tk("del", "b", "c")) == "3\n"
    assert ok(tk("del", "c", "--from-key")) == "2\n"
    assert ok(tk("get", "", "--from-key", "--keys-only")) == "a\n"
    p = tk("get", "a", "--prefix", "--from-key")
    assert p.returncode == 2, p
    assert p.stderr == ("Error: `--prefix` and `--from-key` cannot be set at the same time, "
                        "choose one\n")
    p = tk("-w", "json", "get", "a", "--print-value-only")
    assert p.returncode == 2 and "only for `--write-out=simple`" in p.stderr, p


def test_write_out_fields(tk, cluster):
    out = ok(tk("-w", "fields", "put", "k", "v"))
    assert out.startswith('"Revision" : ') and out.count("\n") == 1, out
    rev = int(out.split(" : ")[1])
    out = ok(tk("-w", "fields", "get", "k"))
    assert out.splitlines()[1:] == ['"Key" : "k"', f'"CreateRevision" : {rev}',
                                    f'"ModRevision" : {rev}', '"Version" : 1', '"Value" : "v"',
                                    '"Lease" : 0', '"More" : false', '"Count" : 1'], out
    assert ok(tk("-w", "fields", "del", "k")) == '"Deleted" : 1\n'
    out = ok(tk("-w", "fields", "endpoint", "status"))
    for e in cluster.endpoints:
        assert f'"Endpoint" : "{e}"\n' in out, out
    assert out.count('"Leader" : ') == 3, out
    out = ok(tk("-w", "fields", "member", "list"))
    assert out.count('"ID" : ') == 3 and out.count('"IsLearner" : false') == 3, out
    p = tk("-w", "fields", "lease", "list")
    assert p.returncode == 2 and 'not supported by "tinykv lease list"' in p.stderr, p


def test_json_answers_open_with_etcds_header(tk):
    """get, put and del -w json: "header" first, with the cluster's id and the answering
    member's (the leader's) as `endpoint status -w json` reports them, its Raft term and
    the read's or write's revision."""
    rows = json.loads(ok(tk("endpoint", "status", "--cluster", "-w", "json")))
    leader = next(r for r in rows if r["id"] == r["leader"])
    want = {"cluster_id": leader["cluster_id"], "member_id": leader["id"],
            "raft_term": leader["term"]}
    assert want["cluster_id"] != 0 and all(r["cluster_id"] == want["cluster_id"] for r in rows)

    def answer(*args):
        out = ok(tk(*args, "-w", "json"))
        assert out.startswith('{"header":{"cluster_id":'), out
        doc = json.loads(out)
        assert list(doc)[0] == "header" and "revision" not in list(doc)[1:], doc
        header = doc["header"]
        assert list(header) == ["cluster_id", "member_id", "revision", "raft_term"], header
        assert {k: header[k] for k in want} == want, (header, want)
        return doc, header["revision"]

    doc, put_rev = answer("put", "hdr", "v")
    assert doc == {"header": doc["header"], "ok": True}
    doc, read_rev = answer("get", "hdr")
    assert read_rev >= put_rev and doc["kvs"][0]["mod_revision"] == put_rev, doc
    doc, count_rev = answer("get", "hdr", "--prefix", "--count-only")
    assert doc["count"] == 1 and count_rev >= read_rev, doc
    doc, del_rev = answer("del", "hdr")
    assert doc["deleted"] == 1 and del_rev > put_rev, doc
    # The delete's revision: gone at it, there just before.
    assert tk("get", "hdr", "--rev", str(del_rev)).returncode == 1
    assert ok(tk("get", "hdr", "--rev", str(del_rev - 1))) == "hdr\nv\n"
    # txn: the commit's revision, no member fields.
    doc = json.loads(ok(tk("txn", "-w", "json", stdin="\nput t 1\n\n")))
    assert list(doc["header"]) == ["revision"] and doc["header"]["revision"] > del_rev, doc


def test_environment_sets_every_global_flag_and_the_command_line_wins(tk, cluster):
    env = {"TINYKV_ENDPOINTS": ",".join(cluster.endpoints), "TINYKV_WRITE_OUT": "json",
           "TINYKV_COMMAND_TIMEOUT": "20s", "TINYKV_DIAL_TIMEOUT": "3s",
           "TINYKV_BYTES": "base64"}
    doc = json.loads(ok(tk("put", "k", "v", env=env)))
    assert doc == {"header": doc["header"], "ok": True}, doc
    assert '"key_base64":"aw=="' in ok(tk("get", "k", env=env))
    assert ok(tk("get", "k", "-w", "simple", env=env)) == "k\nv\n"
    p = tk("get", "k", env={**env, "TINYKV_DIAL_TIMEOUT": "soon"})
    assert p.returncode == 2, p
    assert p.stderr.startswith("Error: TINYKV_DIAL_TIMEOUT=soon: bad duration"), p.stderr
    assert p.stderr.count("\n") == 1, p.stderr
    assert ok(tk("--dial-timeout", "2s", "get", "k", "-w", "simple",
                 env={**env, "TINYKV_DIAL_TIMEOUT": "soon"})) == "k\nv\n"


def test_unknown_commands_and_help(tk):
    p = tk("foo")
    assert (p.returncode, p.stdout, p.stderr) == (2, "", 'Error: unknown command "foo" for "tinykv"\n')
    p = tk("member", "frob")
    assert p.returncode == 2 and p.stderr == 'Error: unknown command "frob" for "tinykv member"\n'
    out = ok(tk("get", "--help"))
    assert "Usage: tinykv get" in out and "--from-key" in out, out
    globals_at = out.index("Global options:")
    for flag in ("--endpoints", "--dial-timeout", "--write-out", "TINYKV_ENDPOINTS"):
        assert flag in out[globals_at:], (flag, out)


def test_bash_completion_script_completes_commands(tk, tmp_path):
    script = tmp_path / "tinykv.bash"
    script.write_text(ok(tk("completion", "bash")))

    def complete(*words):
        p = subprocess.run(
            ["bash", "--norc", "--noprofile", "-c",
             'source "$0" && complete -p tinykv && COMP_WORDS=("$@"); '
             'COMP_CWORD=$(($# - 1)); _tinykv; printf "%s\\n" "${COMPREPLY[@]}"',
             str(script), *words],
            capture_output=True, text=True, timeout=30)
        assert p.returncode == 0, p.stderr
        lines = p.stdout.splitlines()
        assert lines[0] == "complete -o default -F _tinykv tinykv", p.stdout
        return lines[1:]

    assert "get" in complete("tinykv", "ge")
    assert complete("tinykv", "member", "") == ["list", "add", "promote", "remove", "update"]
    assert complete("tinykv", "endpoint", "") == ["status", "health", "hashkv"]
    assert complete("tinykv", "get", "--from") == ["--from-key"]
    assert complete("tinykv", "-w", "f") == ["fields"]
    zsh = ok(tk("completion", "zsh"))
    assert zsh.startswith("#compdef tinykv\n")
    if shutil.which("zsh"):
        (tmp_path / "_tinykv").write_text(zsh)
        p = subprocess.run(["zsh", "-n", str(tmp_path / "_tinykv")], capture_output=True,
                           text=True, timeout=30)
        assert p.returncode == 0, p.stderr
