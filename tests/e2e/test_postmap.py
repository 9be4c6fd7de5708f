"""End-to-end tests of postmap: build, -q, -q -, -s, -d, -i, -f, -r, -w,
errors that leave the old table, and queries of inline:, static: and
texthash: tables.

Each test works in its own tmp_path with $POSTERN_BUILD/bin/postmap and
an empty configuration directory (no main.cf: compiled-in defaults).
"""
import os
import subprocess

import pytest

BUILD = os.environ.get("POSTERN_BUILD", os.path.join(os.path.dirname(__file__), "../../build"))
POSTMAP = os.path.join(BUILD, "bin", "postmap")


@pytest.fixture
def env(tmp_path):
    conf = tmp_path / "etc"
    conf.mkdir()
    e = dict(os.environ)
    e["MAIL_CONFIG"] = str(conf)
    return e


def pm(env, *args, stdin=None):
    return subprocess.run([POSTMAP, *args], input=stdin, capture_output=True, text=True,
                          env=env, timeout=120)


def source(tmp_path, text, name="t"):
    p = tmp_path / name
    p.write_text(text)
    return str(p)


def test_build_then_query(tmp_path, env):
    src = source(tmp_path, "user@example.com  local-user\nOther@Example.COM  other value\n")
    r = pm(env, f"lmdb:{src}")
    assert r.returncode == 0, r.stderr
    assert os.path.exists(src + ".lmdb")
    r = pm(env, "-q", "user@example.com", f"lmdb:{src}")
    assert (r.returncode, r.stdout) == (0, "local-user\n")
    r = pm(env, "-q", "OTHER@example.com", f"lmdb:{src}")
    assert (r.returncode, r.stdout) == (0, "other value\n")
    r = pm(env, "-q", "nobody@example.com", f"lmdb:{src}")
    assert (r.returncode, r.stdout) == (1, "")


def test_hash_is_lmdb(tmp_path, env):
    src = source(tmp_path, "key value\n")
    assert pm(env, f"hash:{src}").returncode == 0
    r = pm(env, "-q", "key", f"hash:{src}")
    assert (r.returncode, r.stdout) == (0, "value\n")
    r = pm(env, "-q", "key", f"lmdb:{src}")
    assert r.stdout == "value\n"
    # A bare file name uses default_database_type (lmdb).
    assert pm(env, src).returncode == 0
    assert pm(env, "-q", "key", src).stdout == "value\n"


def test_query_stdin(tmp_path, env):
    src = source(tmp_path, "a 1\nb 2\nc three words\n")
    assert pm(env, f"lmdb:{src}").returncode == 0
    r = pm(env, "-q", "-", f"lmdb:{src}", stdin="a\nmissing\nC\n\nb\n")
    assert r.returncode == 0
    assert r.stdout == "a\t1\nC\tthree words\nb\t2\n"
    r = pm(env, "-q", "-", f"lmdb:{src}", stdin="x\ny\n")
    assert (r.returncode, r.stdout) == (1, "")


def test_query_several_tables(tmp_path, env):
    one = source(tmp_path, "a first\n", "one")
    two = source(tmp_path, "a second\nb only-two\n", "two")
    assert pm(env, f"lmdb:{one}", f"lmdb:{two}").returncode == 0
    assert pm(env, "-q", "a", f"lmdb:{one}", f"lmdb:{two}").stdout == "first\n"
    assert pm(env, "-q", "b", f"lmdb:{one}", f"lmdb:{two}").stdout == "only-two\n"


def test_dump(tmp_path, env):
    src = source(tmp_path, "b 2\na 1\n")
    pm(env, f"lmdb:{src}")
    r = pm(env, "-s", f"lmdb:{src}")
    assert (r.returncode, r.stdout) == (0, "a\t1\nb\t2\n")


def test_delete(tmp_path, env):
    src = source(tmp_path, "a 1\nb 2\n")
    pm(env, f"lmdb:{src}")
    assert pm(env, "-d", "A", f"lmdb:{src}").returncode == 0
    assert pm(env, "-q", "a", f"lmdb:{src}").returncode == 1
    assert pm(env, "-d", "a", f"lmdb:{src}").returncode == 1
    assert pm(env, "-d", "-", f"lmdb:{src}", stdin="b\nzz\n").returncode == 0
    assert pm(env, "-s", f"lmdb:{src}").stdout == ""


def test_incremental(tmp_path, env):
    src = source(tmp_path, "a 1\n")
    pm(env, f"lmdb:{src}")
    r = pm(env, "-i", f"lmdb:{src}", stdin="new value\n  continued\na other\n")
    assert r.returncode == 0
    assert 'stdin, line 3: duplicate entry: "a"' in r.stderr
    assert pm(env, "-q", "new", f"lmdb:{src}").stdout == "value continued\n"
    assert pm(env, "-q", "a", f"lmdb:{src}").stdout == "1\n"
    # -r replaces; -i on a table that does not exist yet creates it.
    assert pm(env, "-r", "-i", f"lmdb:{src}", stdin="a replaced\n").returncode == 0
    assert pm(env, "-q", "a", f"lmdb:{src}").stdout == "replaced\n"
    fresh = str(tmp_path / "fresh")
    assert pm(env, "-i", f"lmdb:{fresh}", stdin="k v\n").returncode == 0
    assert pm(env, "-q", "k", f"lmdb:{fresh}").stdout == "v\n"
    # A bad line changes nothing.
    r = pm(env, "-i", f"lmdb:{src}", stdin="good 1\nbad\n")
    assert r.returncode == 1
    assert "stdin, line 2:" in r.stderr
    assert pm(env, "-q", "good", f"lmdb:{src}").returncode == 1


def test_fold(tmp_path, env):
    src = source(tmp_path, "MixedCase value\n")
    pm(env, "-f", f"lmdb:{src}")
    assert pm(env, "-f", "-q", "MixedCase", f"lmdb:{src}").stdout == "value\n"
    assert pm(env, "-f", "-q", "mixedcase", f"lmdb:{src}").returncode == 1
    pm(env, f"lmdb:{src}")
    assert pm(env, "-q", "MIXEDCASE", f"lmdb:{src}").stdout == "value\n"
    assert pm(env, "-f", "-q", "mixedcase", f"lmdb:{src}").stdout == "value\n"


def test_duplicates(tmp_path, env):
    src = source(tmp_path, "k first\nx y\nK second\n")
    r = pm(env, f"lmdb:{src}")
    assert r.returncode == 0
    assert f'postmap: warning: {src}, line 3: duplicate entry: "K"' in r.stderr
    assert pm(env, "-q", "k", f"lmdb:{src}").stdout == "first\n"
    r = pm(env, "-w", f"lmdb:{src}")
    assert (r.returncode, r.stderr) == (0, "")
    r = pm(env, "-r", f"lmdb:{src}")
    assert r.returncode == 0 and "duplicate" not in r.stderr
    assert pm(env, "-q", "k", f"lmdb:{src}").stdout == "second\n"


def test_bad_source_keeps_old_table(tmp_path, env):
    src = source(tmp_path, "a 1\n")
    assert pm(env, f"lmdb:{src}").returncode == 0
    source(tmp_path, "a 2\nb 3\nnovalue\n  \nc 4\n   \n" + "x" * 600 + " toolong\n")
    r = pm(env, f"lmdb:{src}")
    assert r.returncode == 1
    assert f"{src}, line 3: expected format: key whitespace value" in r.stderr
    assert f"{src}, line 7: " in r.stderr and "lmdb limit" in r.stderr
    assert "not changed" in r.stderr
    assert pm(env, "-q", "a", f"lmdb:{src}").stdout == "1\n"
    assert pm(env, "-q", "b", f"lmdb:{src}").returncode == 1
    assert not [f for f in os.listdir(tmp_path) if ".tmp." in f]


def test_missing_files(tmp_path, env):
    missing = str(tmp_path / "nothere")
    r = pm(env, f"lmdb:{missing}")
    assert r.returncode == 1
    assert r.stderr == f"postmap: fatal: open {missing}: No such file or directory\n"
    r = pm(env, "-q", "k", f"lmdb:{missing}")
    assert r.returncode == 2
    assert f"open {missing}.lmdb: No such file or directory" in r.stderr


def test_other_types(tmp_path, env):
    r = pm(env, "-q", "b", "inline:{a=1, b=2, { c = with spaces }}")
    assert (r.returncode, r.stdout) == (0, "2\n")
    assert pm(env, "-q", "C", "inline:{a=1, { c = with spaces }}").stdout == "with spaces\n"
    assert pm(env, "-q", "zz", "inline:{a=1}").returncode == 1
    r = pm(env, "-q", "x", "inline:{a}")
    assert r.returncode == 2 and "inline:{a}" in r.stderr
    assert pm(env, "-q", "anything", "static:OK").stdout == "OK\n"
    assert pm(env, "-q", "x", "static:{ two words }").stdout == "two words\n"
    src = source(tmp_path, "Key value\nother  thing\n")
    assert pm(env, "-q", "KEY", f"texthash:{src}").stdout == "value\n"
    assert pm(env, "-s", f"texthash:{src}").stdout == "key\tvalue\nother\tthing\n"
    assert pm(env, "-q", "-", f"texthash:{src}", stdin="other\n").stdout == "other\tthing\n"
    r = pm(env, "-q", "x", "nosuchtype:foo")
    assert r.returncode == 2 and "unsupported dictionary type: nosuchtype" in r.stderr


def test_config_dir(tmp_path, env):
    # With a main.cf, its default_database_type applies to bare names.
    conf = tmp_path / "etc"
    (conf / "main.cf").write_text("default_database_type = lmdb\n")
    src = source(tmp_path, "k v\n")
    assert pm(env, "-c", str(conf), src).returncode == 0
    assert pm(env, "-c", str(conf), "-q", "k", src).stdout == "v\n"
    # A broken main.cf is an error.
    (conf / "main.cf").write_text("no_such_parameter_at_all = 1\nbroken line\n")
    assert pm(env, "-c", str(conf), "-q", "k", src).returncode != 0


def test_permissions_follow_source(tmp_path, env):
    src = source(tmp_path, "k v\n")
    os.chmod(src, 0o600)
    assert pm(env, f"lmdb:{src}").returncode == 0
    assert os.stat(src + ".lmdb").st_mode & 0o777 == 0o600
