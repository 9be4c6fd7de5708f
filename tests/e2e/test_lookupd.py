"""proxy: tables through lookupd on a running instance."""
import os

from conftest import wait_for


def write_table(instance, name, text):
    path = os.path.join(instance.dir, name)
    with open(path, "w") as f:
        f.write(text)
    os.chmod(path, 0o644)
    return path


def postmap_q(instance, key, table):
    return instance.run("postmap", "-c", instance.dir, "-q", key, table, check=False)


def test_proxy_lookup_through_lookupd(instance):
    table = write_table(instance, "vtable", "alice@example.test alice-value\n"
                                            "@other.test catchall\n")
    instance.postconf("-e", f"proxy_read_maps = texthash:{table}")
    assert "lookupd" in open(os.path.join(instance.dir, "master.cf")).read()
    instance.postern("start")
    spec = f"proxy:texthash:{table}"

    r = postmap_q(instance, "Alice@Example.TEST", spec)
    assert r.returncode == 0 and r.stdout.strip() == "alice-value", r.stderr
    r = postmap_q(instance, "bob@example.test", spec)
    assert r.returncode == 1 and r.stdout == ""

    # Several keys over one connection.
    r = instance.run("postmap", "-c", instance.dir, "-q", "-", spec, check=False,
                     input="alice@example.test\nnobody@example.test\n@other.test\n")
    assert r.returncode == 0
    assert r.stdout.splitlines() == ["alice@example.test\talice-value", "@other.test\tcatchall"]


def test_table_outside_proxy_read_maps_is_refused(instance):
    table = write_table(instance, "secret", "root secret-value\n")
    instance.postern("start")
    r = postmap_q(instance, "root", f"proxy:texthash:{table}")
    # Refused as a temporary failure: mail would be deferred, never bounced.
    assert r.returncode not in (0, 1)
    assert "not in proxy_read_maps" in r.stderr
    assert "secret-value" not in r.stdout
    instance.wait_log(r"lookupd\[\d+\]: warning: request for table texthash:\S+secret refused")


def test_lookupd_down_is_a_temporary_failure(instance):
    table = write_table(instance, "vtable", "alice@example.test alice-value\n")
    instance.postconf("-e", f"proxy_read_maps = texthash:{table}")
    # Not started: nobody listens on private/lookupd.
    r = postmap_q(instance, "alice@example.test", f"proxy:texthash:{table}")
    assert r.returncode not in (0, 1)
    assert "lookupd" in r.stderr
