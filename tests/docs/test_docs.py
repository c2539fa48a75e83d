"""The READMEs and docs name only things that exist.

Every Markdown file of the repository is read, and what it names is checked against the
tracked files and the registered tests:

- a repository path in code (`phase1_storage/doc/wal_format.md`, `src/cli/`,
  `db_impl.{h,cc}`, `tinykv/net/address.h`) or a relative link must exist.
  Paths are resolved against the repository root, the doc's folder and its phase folder;
  `tinykv/...` also against every `include/` and `python/`; a bare file name
  (`db_impl.cc`) must be a file of the doc's phase. `build/<preset>/.../<name>` must name
  a preset and a target its folder's CMakeLists.txt declares.
- a `ctest -R <pattern>` (each top-level alternative on its own) and a
  `--gtest_filter=<glob>` must match at least one registered test; a test named as
  `Suite.Name` (or `Suite.*`) must be registered;
- a pytest path (`tests/phase1`, `tests/x.py::test_name`) must exist, with the test.

Known gaps are listed in KNOWN_BROKEN with the reason, and a listed reference that works
again fails the test, so the list only shrinks. test_the_checker_catches_... is the
negative control: a doc with a renamed file, a dead link, a ctest pattern and a pytest
path that match nothing must fail each check.
"""

from __future__ import annotations

import fnmatch
import functools
import json
import re
import shlex
import subprocess
from pathlib import Path, PurePosixPath

import pytest

ROOT = Path(__file__).resolve().parents[2]

# Folders whose paths a doc may name relative to its phase folder.
PHASE_SUBDIRS = {"src", "include", "tests", "doc", "bindings", "bench", "tools", "fuzz",
                 "testdata", "notebook_src"}
# File names that count as repository files when named bare.
FILE_EXTENSIONS = {".cc", ".h", ".py", ".pyi", ".md", ".sh", ".txt", ".toml", ".ipynb",
                   ".cmake", ".tar.gz"}
# Made by the scripts, never tracked: not checked.
GENERATED_PREFIXES = (".venv/", "data/", "./data")

# (doc, reference) -> why it is broken for now. Keep it short; fix, then delete the entry.
KNOWN_BROKEN: dict[tuple[str, str], str] = {}  # paths and links
KNOWN_UNREGISTERED: dict[tuple[str, str], str] = {}  # ctest patterns, tests, pytest paths
# What must not appear in a doc: the team's notes kept outside the repository, and this
# machine's paths (spelled in two pieces, so that a grep of the tree finds only offenders).
OUTSIDE = ("DESIGN" ".md", "STYLE" ".md", "/wo" "rk/", "../sha" "red")
KNOWN_OUTSIDE: dict[tuple[str, str], str] = {}


@functools.cache
def tracked_files() -> frozenset[str]:
    """The repository's files: tracked, or new and not ignored (build outputs are)."""
    out = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
                         cwd=ROOT, capture_output=True, check=True)
    return frozenset(p for p in out.stdout.decode().split("\0") if p and (ROOT / p).exists())


@functools.cache
def tracked_dirs() -> frozenset[str]:
    dirs = set()
    for f in tracked_files():
        parts = PurePosixPath(f).parts
        for i in range(1, len(parts)):
            dirs.add("/".join(parts[:i]))
    return frozenset(dirs)


def docs() -> list[str]:
    return sorted(f for f in tracked_files() if f.endswith(".md"))


# ---------------------------------------------------------------------------- extraction

def code_texts(markdown: str) -> list[str]:
    """Inline code spans and the lines of fenced code blocks."""
    texts, fence = [], None
    for line in markdown.splitlines():
        stripped = line.strip()
        if stripped.startswith("```"):
            fence = None if fence else stripped
            continue
        if fence:
            texts.append(line)
        else:
            texts += re.findall(r"`([^`\n]+)`", line)
    return texts


def link_targets(markdown: str) -> list[str]:
    out = []
    for target in re.findall(r"\]\(([^)\s]+)\)", markdown):
        if re.match(r"^[a-z]+:", target) or target.startswith("#"):
            continue
        out.append(target.split("#", 1)[0])
    return out


def tokens(text: str) -> list[str]:
    text = text.split(" #", 1)[0]  # a shell comment
    try:
        return shlex.split(text)
    except ValueError:  # an unbalanced quote in prose
        return text.split()


def expand(token: str) -> list[str]:
    """`a.{h,cc}` -> a.h, a.cc; `a.h/.cc` -> a.h, a.cc."""
    m = re.match(r"^(.*)\{([^{}]*)\}(.*)$", token)
    if m:
        return [x for alt in m.group(2).split(",") for x in expand(m.group(1) + alt + m.group(3))]
    m = re.match(r"^(.*)\.(\w+)/\.(\w+)$", token)
    if m:
        return [f"{m.group(1)}.{m.group(2)}", f"{m.group(1)}.{m.group(3)}"]
    return [token]


def looks_like_path(token: str) -> bool:
    if not token or any(c in token for c in "<>$=|@()[]\"'") or "://" in token:
        return False
    if token.startswith(("-", "/", "~", "http")) or token.startswith(GENERATED_PREFIXES):
        return False
    first = token.split("/", 1)[0]
    if "/" in token:
        return (first in tracked_dirs() or first in tracked_files() or first in PHASE_SUBDIRS
                or first in ("tinykv", "build"))
    return re.match(r"^[\w{},-][\w.{},-]*$", token) is not None and any(
        name.endswith(ext) for name in expand(token) for ext in FILE_EXTENSIONS)


def path_references(doc: str, markdown: str) -> list[str]:
    refs = []
    for text in code_texts(markdown):
        for tok in tokens(text):
            tok = re.sub(r"(::\w+|:\d+)$", "", tok.rstrip(".,;:)"))
            if looks_like_path(tok):
                refs.append(tok)
    return refs


# ---------------------------------------------------------------------------- resolution

def exists(rel: str) -> bool:
    rel = rel.rstrip("/")
    if "*" in rel:
        return any(fnmatch.fnmatch(f, rel) for f in tracked_files())
    return rel in tracked_files() or rel in tracked_dirs()


def phase_of(doc: str) -> str | None:
    parts = PurePosixPath(doc).parts
    return parts[0] if len(parts) > 1 else None


def normalize(p: PurePosixPath) -> str | None:
    parts = []
    for part in p.parts:
        if part == "..":
            if not parts:
                return None
            parts.pop()
        elif part != ".":
            parts.append(part)
    return "/".join(parts)


def build_path_ok(ref: str, markdown: str) -> bool:
    """build/<dir>[/<folder>.../<target>]: <dir> is a preset's (or the doc configures it
    itself without a preset, `cmake -B build/<dir> ...`), and the target is declared by
    its folder's CMakeLists.txt."""
    parts = ref.rstrip("/").split("/")
    presets = {p["name"] for p in json.loads((ROOT / "CMakePresets.json").read_text())
               ["configurePresets"]}
    own = {m.group(1) for text in code_texts(markdown) if "--preset" not in text
           for m in re.finditer(r"-B\s*build/([\w.-]+)", text)}
    if len(parts) < 2 or parts[1] not in presets | own:
        return False
    if len(parts) == 2:
        return True
    folder, name = "/".join(parts[2:-1]), parts[-1]
    if folder and not exists(folder):
        return False
    cmake = [f for f in tracked_files() if f.endswith("CMakeLists.txt")
             and f.startswith(folder + "/" if folder else "")]
    return any(declares(name, (ROOT / f).read_text()) for f in cmake)


def declares(target: str, cmake_text: str) -> bool:
    """The CMake text names `target`, literally or through a name built in a loop
    (`add_executable(tinykv_storage_${t}_fuzzer ...)` declares tinykv_storage_wal_fuzzer)."""
    if re.search(rf"\b{re.escape(target)}\b", cmake_text):
        return True
    for m in re.finditer(r"add_executable\(\s*([\w${}]+)", cmake_text):
        pattern = re.sub(r"\\\$\\\{\w+\\\}", r"\\w+", re.escape(m.group(1)))
        if "\\w+" in pattern and re.fullmatch(pattern, target):
            return True
    return False


def resolves(doc: str, ref: str, markdown: str) -> bool:
    if ref.startswith("build/"):
        return build_path_ok(ref, markdown)
    phase = phase_of(doc)
    here = PurePosixPath(doc).parent
    if "/" not in ref.rstrip("/"):  # a bare file name: one of the doc's phase, or a test
        scopes = (phase + "/", "tests/") if phase and phase != "docs" else ("",)
        return exists(ref) or exists(str(here / ref)) or any(
            PurePosixPath(f).name == ref and f.startswith(scopes) for f in tracked_files())
    bases = [PurePosixPath(""), here]
    if phase:
        bases.append(PurePosixPath(phase))
        if ref.startswith("testdata/"):  # file tours name the test data under tests/
            bases.append(PurePosixPath(phase) / "tests")
    if ref.startswith("tinykv/"):
        bases += [PurePosixPath(d) for d in tracked_dirs() if d.endswith("/include")]
        bases.append(PurePosixPath("python"))
    for base in bases:
        rel = normalize(base / ref)
        if rel is not None and exists(rel):
            return True
    return False


def broken_paths(doc: str, markdown: str) -> list[str]:
    bad = []
    for ref in path_references(doc, markdown):
        if not all(resolves(doc, r, markdown) for r in expand(ref)):
            bad.append(ref)
    for target in link_targets(markdown):
        rel = normalize(PurePosixPath(doc).parent / target)
        if rel is None or not exists(rel):
            bad.append(target)
    return sorted(set(bad))


# ---------------------------------------------------------------------------- tests named

@functools.cache
def registered_tests() -> tuple[str, ...]:
    if not (ROOT / "build" / "ci" / "CTestTestfile.cmake").exists():
        pytest.skip("build/ci is not configured (scripts/build.sh)")
    out = subprocess.run(["ctest", "--test-dir", str(ROOT / "build" / "ci"), "-N"],
                         capture_output=True, text=True, check=True).stdout
    names = []
    for name, disabled in re.findall(r"Test\s+#\d+: (\S+)( \(Disabled\))?", out):
        names.append(name)
        if disabled:  # GoogleTest's own name for it, as --gtest_filter sees it
            suite, _, test = name.partition(".")
            names.append(f"{suite}.DISABLED_{test}")
    assert names, out
    # Tests that only other configurations register (the clang fuzz build's add_test).
    for f in tracked_files():
        if f.endswith("CMakeLists.txt"):
            names += re.findall(r"add_test\(NAME ([\w.]+)", (ROOT / f).read_text())
    return tuple(names)


def alternatives(pattern: str) -> list[str]:
    """Top-level alternatives of a regex; `^(A|B)c` -> ^Ac, ^Bc."""
    m = re.match(r"^(\^?)\(([^()]*)\)(.*)$", pattern)
    if m:
        return [m.group(1) + a + m.group(3) for a in m.group(2).split("|")]
    out, depth, cur = [], 0, ""
    for ch in pattern:
        depth += ch == "("
        depth -= ch == ")"
        if ch == "|" and depth == 0:
            out.append(cur)
            cur = ""
        else:
            cur += ch
    return out + [cur]


def named_tests(markdown: str) -> tuple[list[str], list[str], list[str]]:
    """(ctest -R patterns, gtest filters, Suite.Name mentions) of a doc."""
    ctest, gtest, names = [], [], []
    for text in code_texts(markdown):
        toks = tokens(text)
        for i, tok in enumerate(toks):
            if tok == "-R" and i + 1 < len(toks) and "ctest" in toks[:i]:
                ctest.append(toks[i + 1])
            elif tok.startswith("--gtest_filter="):
                gtest.append(tok.split("=", 1)[1])
        for tok in toks:
            tok = tok.rstrip(".,;:)")
            m = re.match(r"^([A-Z][A-Za-z0-9]*)\.([A-Z][A-Za-z0-9]*|\*)$", tok)
            if m and (m.group(1).endswith("Test") or
                      any(t.startswith(m.group(1) + ".") for t in registered_tests())):
                names.append(tok)
    return ctest, gtest, names


def unmatched_tests(markdown: str) -> list[str]:
    ctest, gtest, names = named_tests(markdown)
    tests = registered_tests()
    bad = []
    for pattern in ctest:
        if "<" in pattern:  # a placeholder, e.g. -R <Suite>
            continue
        for alt in alternatives(pattern):
            if not any(re.search(alt, t) for t in tests):
                bad.append(f"ctest -R {pattern!r}: {alt!r} matches no test")
    for glob in gtest:
        if not any(fnmatch.fnmatchcase(t, g) for g in glob.split(":") for t in tests):
            bad.append(f"--gtest_filter={glob!r} matches no test")
    for name in names:
        if not any(fnmatch.fnmatchcase(t, name) for t in tests):
            bad.append(f"test {name} is not registered")
    return bad


def pytest_targets(markdown: str) -> list[str]:
    out = []
    for text in code_texts(markdown):
        toks = tokens(text)
        if "pytest" not in toks:
            continue
        for tok in toks[toks.index("pytest") + 1:]:
            if tok.startswith("tests"):
                out.append(tok)
    return out


def broken_pytest_targets(markdown: str) -> list[str]:
    bad = []
    for target in pytest_targets(markdown):
        path, _, name = target.partition("::")
        if not exists(path):
            bad.append(target)
        elif name and not re.search(rf"^\s*def {re.escape(name.split('[')[0])}\(",
                                    (ROOT / path).read_text(), re.M):
            bad.append(target)
    return bad


# ---------------------------------------------------------------------------- the tests

def check(doc: str, found: list[str], known_broken: dict[tuple[str, str], str]) -> None:
    known = {ref for (d, ref) in known_broken if d == doc}
    fixed = sorted(known - set(found))
    assert not fixed, f"{doc}: fixed, remove from KNOWN_BROKEN: {fixed}"
    new = [f for f in found if f not in known]
    assert not new, f"{doc} names what does not exist:\n  " + "\n  ".join(new)


@pytest.mark.parametrize("doc", docs())
def test_every_path_and_link_a_doc_names_exists(doc):
    check(doc, broken_paths(doc, (ROOT / doc).read_text()), KNOWN_BROKEN)


@pytest.mark.parametrize("doc", docs())
def test_every_test_a_doc_names_is_registered(doc):
    markdown = (ROOT / doc).read_text()
    check(doc, unmatched_tests(markdown) + broken_pytest_targets(markdown), KNOWN_UNREGISTERED)


@pytest.mark.parametrize("doc", docs())
def test_the_docs_do_not_point_outside_the_repository(doc):
    # The architecture and style docs live in docs/; nothing names a machine's paths.
    text = (ROOT / doc).read_text()
    check(doc, [n for n in OUTSIDE if n in text], KNOWN_OUTSIDE)


def test_the_checker_catches_renamed_files_dead_links_and_unmatched_tests():
    # Negative control: each kind of broken reference is reported, next to good ones.
    doc = "phase1_storage/README.md"
    broken = (
        "See `phase1_storage/doc/wal_format.md` and `doc/wal_format.md` (both fine),\n"
        "`src/wal_reader.cc` (fine), `src/wal_raeder.cc` (renamed), `wal_writer.cc`,\n"
        "`db_impl.{h,cc}` (fine), `db_impl.{h,cpp}` (half gone),\n"
        "`tinykv/storage/db.h` (fine), `tinykv/storage/dbb.h`, `build/ci` (fine),\n"
        "`build/s1/phase1_storage/tinykv_storage_tests` (a private build folder),\n"
        "[the WAL](doc/wal_format.md) (fine) and [gone](doc/nothing.md).\n"
        "```\n"
        "ctest --preset ci -R 'DBTest|NoSuchSuiteAnywhere'\n"
        "build/ci/phase1_storage/tinykv_storage_tests --gtest_filter='DBTest.*'\n"
        "build/ci/phase1_storage/tinykv_storage_tests --gtest_filter='NoSuchSuite.*'\n"
        ".venv/bin/python -m pytest tests/phase1 tests/phase1/test_nothing.py\n"
        ".venv/bin/python -m pytest tests/phase1/test_crash.py::test_no_such_test\n"
        "```\n"
        "`NoSuchSuiteTest.Anything` must be registered.\n")
    assert broken_paths(doc, broken) == sorted([
        "build/s1/phase1_storage/tinykv_storage_tests", "doc/nothing.md",
        "db_impl.{h,cpp}", "src/wal_raeder.cc", "tests/phase1/test_nothing.py",
        "tinykv/storage/dbb.h"])
    assert broken_pytest_targets(broken) == [
        "tests/phase1/test_nothing.py", "tests/phase1/test_crash.py::test_no_such_test"]
    assert unmatched_tests(broken) == [
        "ctest -R 'DBTest|NoSuchSuiteAnywhere': 'NoSuchSuiteAnywhere' matches no test",
        "--gtest_filter='NoSuchSuite.*' matches no test",
        "test NoSuchSuiteTest.Anything is not registered"]
