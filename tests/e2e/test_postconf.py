"""End-to-end tests of postconf: show, edit (-e, -X), master.cf (-M), -m.

Each test makes its own configuration directory under tmp_path and runs
$POSTERN_BUILD/bin/postconf -c DIR ...; nothing is installed.
"""
import os
import subprocess

import pytest

BUILD = os.environ.get("POSTERN_BUILD", os.path.join(os.path.dirname(__file__), "../../build"))
POSTCONF = os.path.join(BUILD, "bin", "postconf")

MAIN_CF = """\
# A test main.cf
myhostname = mx.example.test

# destinations
mydestination = $myhostname, localhost,
    other.example.test
# a comment between settings
relayhost = [relay.example.test]:587
smtpd_banner = $myhostname ESMTP #not a comment
my_restrictions = permit_mynetworks, reject
smtpd_client_restrictions = $my_restrictions
"""


def run(*args, env=None, check=True):
    """Run postconf; return the CompletedProcess."""
    full_env = dict(os.environ)
    full_env.pop("MAIL_CONFIG", None)
    if env:
        full_env.update(env)
    proc = subprocess.run([POSTCONF, *args], capture_output=True, text=True, env=full_env,
                          timeout=60)
    if check and proc.returncode != 0:
        raise AssertionError(f"postconf {args} failed: {proc.stderr}")
    return proc


@pytest.fixture
def confdir(tmp_path):
    d = tmp_path / "etc"
    d.mkdir()
    (d / "main.cf").write_text(MAIN_CF)
    return d


def main_cf(confdir):
    return (confdir / "main.cf").read_text()


def test_acceptance_set_then_show(confdir):
    run("-c", str(confdir), "-e", "myhostname = mx.example.test")
    assert run("-c", str(confdir), "-h", "myhostname").stdout == "mx.example.test\n"
    run("-c", str(confdir), "-e", "myhostname = other.example.test")
    assert run("-c", str(confdir), "-h", "myhostname").stdout == "other.example.test\n"


def test_show_named(confdir):
    out = run("-c", str(confdir), "relayhost", "myhostname").stdout
    assert out == "relayhost = [relay.example.test]:587\nmyhostname = mx.example.test\n"


def test_show_raw_and_expanded(confdir):
    assert run("-c", str(confdir), "myorigin").stdout == "myorigin = $myhostname\n"
    assert run("-c", str(confdir), "-x", "myorigin").stdout == "myorigin = mx.example.test\n"
    # Continuation lines are joined and white space is collapsed, like Postfix.
    assert run("-c", str(confdir), "-x", "-h", "mydestination").stdout == \
        "mx.example.test, localhost, other.example.test\n"
    assert run("-c", str(confdir), "-h", "smtpd_banner").stdout == \
        "$myhostname ESMTP #not a comment\n"


def test_show_all_sorted(confdir):
    lines = run("-c", str(confdir)).stdout.splitlines()
    names = [line.split(" =")[0] for line in lines]
    assert names == sorted(names)
    assert "my_restrictions" in names          # user-defined parameters are shown
    assert "queue_directory = /var/spool/postern" in lines
    assert "relayhost = [relay.example.test]:587" in lines


def test_show_n(confdir):
    out = run("-c", str(confdir), "-n").stdout
    assert out == (
        "my_restrictions = permit_mynetworks, reject\n"
        "mydestination = $myhostname, localhost, other.example.test\n"
        "myhostname = mx.example.test\n"
        "relayhost = [relay.example.test]:587\n"
        "smtpd_banner = $myhostname ESMTP #not a comment\n"
        "smtpd_client_restrictions = $my_restrictions\n")
    # A named parameter that is not set prints nothing with -n.
    assert run("-c", str(confdir), "-n", "queue_directory").stdout == ""


def test_show_d(confdir):
    out = run("-c", str(confdir), "-d", "relayhost", "message_size_limit", "smtpd_timeout",
              "maximal_queue_lifetime", "config_directory", "master_stop_timeout").stdout
    assert out == ("relayhost =\n"
                   "message_size_limit = 10240000\n"
                   "smtpd_timeout = 300s\n"
                   "maximal_queue_lifetime = 5d\n"
                   "config_directory = /etc/postern\n"
                   "master_stop_timeout = 10s\n")
    # -d needs no main.cf at all.
    out = run("-c", "/nonexistent", "-d", "mydestination").stdout
    assert out == "mydestination = $myhostname, localhost.$mydomain, localhost\n"
    lines = run("-d").stdout.splitlines()
    assert len(lines) > 90
    assert not any(line.startswith("my_restrictions") for line in lines)


def test_unknown_name_warns(confdir):
    proc = run("-c", str(confdir), "nosuch", "relayhost", check=False)
    assert proc.returncode == 0
    assert proc.stdout == "relayhost = [relay.example.test]:587\n"
    assert "postconf: warning: nosuch: unknown parameter" in proc.stderr


def test_mail_config_env(confdir):
    assert run("-h", "myhostname", env={"MAIL_CONFIG": str(confdir)}).stdout == \
        "mx.example.test\n"


def test_broken_main_cf_is_reported(confdir):
    (confdir / "main.cf").write_text("relayhost = a\nfoo = 1\nsmtpd_delay_reject = maybe\n")
    proc = run("-c", str(confdir), check=False)
    assert proc.returncode == 1
    assert proc.stdout == ""
    assert f"{confdir}/main.cf, line 2: unknown parameter: foo" in proc.stderr
    assert f"{confdir}/main.cf, line 3: bad boolean value for smtpd_delay_reject: maybe" \
        in proc.stderr


def test_missing_main_cf(tmp_path):
    proc = run("-c", str(tmp_path), "relayhost", check=False)
    assert proc.returncode == 1
    assert "No such file or directory" in proc.stderr


def test_edit_keeps_comments_and_order(confdir):
    run("-c", str(confdir), "-e", "relayhost=", "mydestination = localhost",
        "message_size_limit = 20m", "biff = no")
    assert main_cf(confdir) == """\
# A test main.cf
myhostname = mx.example.test

# destinations
mydestination = localhost
# a comment between settings
relayhost = 
smtpd_banner = $myhostname ESMTP #not a comment
my_restrictions = permit_mynetworks, reject
smtpd_client_restrictions = $my_restrictions
biff = no
message_size_limit = 20m
"""
    assert run("-c", str(confdir), "-h", "mydestination").stdout == "localhost\n"


def test_edit_replaces_continuation_lines(confdir):
    (confdir / "main.cf").write_text(
        "mydestination = a,\n"
        "    b,\n"
        "# comment inside the continuation\n"
        "    c\n"
        "relayhost = r\n")
    run("-c", str(confdir), "-e", "mydestination = x")
    assert main_cf(confdir) == (
        "mydestination = x\n"
        "# comment inside the continuation\n"
        "relayhost = r\n")


def test_edit_file_without_final_newline(confdir):
    (confdir / "main.cf").write_text("relayhost = r")
    run("-c", str(confdir), "-e", "biff=no")
    assert main_cf(confdir) == "relayhost = r\nbiff = no\n"


def test_edit_refuses_unknown_parameter(confdir):
    before = main_cf(confdir)
    proc = run("-c", str(confdir), "-e", "nosuch_param = 1", check=False)
    assert proc.returncode == 1
    assert "unknown parameter: nosuch_param" in proc.stderr
    assert main_cf(confdir) == before
    assert not [p for p in os.listdir(confdir) if p != "main.cf"]


@pytest.mark.parametrize("setting,message", [
    ("smtpd_delay_reject = maybe", "bad boolean value for smtpd_delay_reject: maybe"),
    ("smtpd_recipient_limit = lots", "bad integer value for smtpd_recipient_limit: lots"),
    ("smtpd_timeout = 5x", "bad time value for smtpd_timeout: 5x"),
    ("message_size_limit = big", "bad size value for message_size_limit: big"),
    ("smtpd_banner = $nosuch", "undefined parameter $nosuch"),
    ("myorigin = $myorigin", "expansion loop"),
])
def test_edit_refuses_bad_value(confdir, setting, message):
    before = main_cf(confdir)
    proc = run("-c", str(confdir), "-e", setting, check=False)
    assert proc.returncode == 1
    assert message in proc.stderr
    assert main_cf(confdir) == before


def test_edit_bad_syntax(confdir):
    before = main_cf(confdir)
    for arg in ["no_equals_sign", "bad name = 1", "= 1", "# comment = 1"]:
        proc = run("-c", str(confdir), "-e", arg, check=False)
        assert proc.returncode == 1, arg
    assert main_cf(confdir) == before


def test_edit_repairs_broken_file_step_by_step(confdir):
    (confdir / "main.cf").write_text("foo = 1\nsmtpd_timeout = 5x\n")
    run("-c", str(confdir), "-e", "smtpd_timeout = 5s")       # foo was already broken
    assert main_cf(confdir) == "foo = 1\nsmtpd_timeout = 5s\n"
    run("-c", str(confdir), "-X", "foo")
    assert main_cf(confdir) == "smtpd_timeout = 5s\n"
    assert run("-c", str(confdir), "-n").stdout == "smtpd_timeout = 5s\n"


def test_edit_keeps_file_mode(confdir):
    os.chmod(confdir / "main.cf", 0o640)
    run("-c", str(confdir), "-e", "relayhost = x")
    assert os.stat(confdir / "main.cf").st_mode & 0o777 == 0o640


def test_remove(confdir):
    run("-c", str(confdir), "-X", "mydestination", "relayhost", "not_there")
    text = main_cf(confdir)
    assert "mydestination" not in text and "other.example.test" not in text
    assert "relayhost" not in text
    assert "# destinations\n# a comment between settings\n" in text
    assert run("-c", str(confdir), "-h", "relayhost").stdout == "\n"


def test_remove_referenced_user_parameter_refused(confdir):
    before = main_cf(confdir)
    proc = run("-c", str(confdir), "-X", "my_restrictions", check=False)
    assert proc.returncode == 1
    assert "undefined parameter $my_restrictions" in proc.stderr
    assert main_cf(confdir) == before


def test_remove_rejects_values(confdir):
    proc = run("-c", str(confdir), "-X", "relayhost=x", check=False)
    assert proc.returncode == 1


MASTER_CF = """\
# service type  private unpriv  chroot  wakeup  maxproc command + args
smtp      inet  n       -       y       -       -       smtpd
submission inet n       -       y       -       -       smtpd
  -o smtpd_client_restrictions=$my_restrictions
pickup    unix  n       -       y       60      1       pickup
qmgr      unix  n       -       n       300     1       qmgr
"""


def test_master(confdir):
    (confdir / "master.cf").write_text(MASTER_CF)
    lines = run("-c", str(confdir), "-M").stdout.splitlines()
    assert [line.split()[0] for line in lines] == ["smtp", "submission", "pickup", "qmgr"]
    assert lines[0].split() == ["smtp", "inet", "n", "-", "y", "-", "-", "smtpd"]
    assert "smtpd_client_restrictions=$my_restrictions" in lines[1]
    out = run("-c", str(confdir), "-M", "pickup/unix", "smtp").stdout.splitlines()
    assert [line.split()[0] for line in out] == ["smtp", "pickup"]
    assert run("-c", str(confdir), "-M", "pickup/inet").stdout == ""


def test_table_types():
    proc = run("-m")
    assert proc.returncode == 0
    types = proc.stdout.split()
    # Every type is listed once; hash and btree are listed with lmdb, whose names they are.
    assert len(types) == len(set(types)) and "proxy" in types
    assert ("lmdb" in types) == ("hash" in types) == ("btree" in types)


def test_conflicting_options(confdir):
    assert run("-c", str(confdir), "-d", "-n", check=False).returncode == 1
    assert run("-c", str(confdir), "-e", "-X", "a", check=False).returncode == 1
    assert run("-c", str(confdir), "-Z", check=False).returncode == 1
