"""Kamailio 5.6 (Debian `kamailio`) as the registrar and proxy atende talks to in tests.

    kam = Kamailio(workdir, users={"atende": "secret"}, downstream=("127.0.0.1", uas.port))
    kam.start()                       # waits until it answers OPTIONS; raises with the log
    ... atende registers to kam.target, calls sip:1001@kam.target ...
    assert kam.wait_registered("atende", timeout=10)
    kam.stop()

The config is tests/e2e/kamailio/registrar_proxy.cfg; every setting reaches it as a `-A`
define, so the file is never rewritten. Digest accounts live in an htable filled from the
USERS define (no database), registrations in memory (usrloc db_mode 0: a restart forgets
them, which is what a re-registration test wants). kamcmd talks to it over a ctl socket.

As root (CI) Kamailio drops to the `kamailio` user (-u/-g), so its run dir (pid file, ctl
socket) is a world-traversable temp dir owned by that user: pytest's tmp dirs are 0700.
"""
import os
import pathlib
import pwd
import grp
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import uuid

from .ports import LOOPBACK, free_port

CONFIG = pathlib.Path(__file__).resolve().parent.parent / "kamailio" / "registrar_proxy.cfg"
REALM = "e2e.atende"


def _check_token(value, what):
    text = str(value)
    for bad in ',:="\\ \t\r\n':
        if bad in text:
            raise ValueError(f"{what} {text!r} may not contain {bad!r}")
    if not text:
        raise ValueError(f"{what} is empty")
    return text


class Kamailio:
    def __init__(self, workdir, users=None, downstream=None, *, routes=None,
                 invite_auth=False, tcp=True, port=None, min_expires=1, max_expires=3600,
                 default_expires=3600, realm=REALM, debug=2):
        """users: {account: password} that may REGISTER (and, with invite_auth, must
        authenticate their INVITEs: 407 then 403 on a wrong password).
        downstream: (host, port) where INVITEs to an all-digit user (not registered, not in
        routes) are relayed, R-URI unchanged. routes: {user: (host, port)} sends requests
        for that R-URI user there unchanged; {user: "sip:bob@127.0.0.1:5090"} replaces the
        R-URI (baresip answers 404 to an R-URI user that is not its account's).
        port: fixed SIP port (default a free one); UDP, and TCP too when tcp=True."""
        self.dir = pathlib.Path(workdir) / f"kamailio-{uuid.uuid4().hex[:6]}"
        self.dir.mkdir(parents=True, exist_ok=True)
        self.users = {_check_token(u, "user"): _check_token(p, "password")
                      for u, p in (users or {}).items()}
        self.downstream = downstream
        self.routes = dict(routes or {})
        self.invite_auth = invite_auth
        self.tcp = tcp
        self._fixed_port = port is not None
        self.port = port or free_port()
        self.realm = _check_token(realm, "realm")
        self.min_expires, self.max_expires = int(min_expires), int(max_expires)
        self.default_expires = int(default_expires)
        self.debug = int(debug)
        self.log_path = self.dir / "kamailio.log"
        self.run_dir = None
        self.proc = None
        self.starts = 0

    # -- addresses -------------------------------------------------------------------
    @property
    def host(self):
        return LOOPBACK

    @property
    def target(self):
        """host:port, e.g. for a SIPp target or atende's --proxy."""
        return f"{LOOPBACK}:{self.port}"

    def uri(self, user=None):
        return f"sip:{user}@{self.target}" if user else f"sip:{self.target}"

    # -- process ---------------------------------------------------------------------
    def command(self):
        cmd = ["kamailio", "-f", str(CONFIG), "-DD", "-E", "-Y", str(self.run_dir),
               "-P", str(self.run_dir / "kamailio.pid"), "-m", "64", "-M", "8",
               "-w", str(self.run_dir), f"--debug={self.debug}",
               "-A", f"LISTEN_UDP=udp:{LOOPBACK}:{self.port}",
               "-A", f'CTL_SOCKET="unix:{self.ctl_socket}"',
               "-A", f'REALM="{self.realm}"',
               "-A", f"MIN_EXPIRES={self.min_expires}",
               "-A", f"MAX_EXPIRES={self.max_expires}",
               "-A", f"DEFAULT_EXPIRES={self.default_expires}",
               "-A", 'USERS="%s"' % ",".join(f"{u}:{p}" for u, p in self.users.items())]
        if self.tcp:
            cmd += ["-A", f"LISTEN_TCP=tcp:{LOOPBACK}:{self.port}"]
        routes = ",".join(f"{_check_token(n, 'user')}={_route_value(v)}"
                          for n, v in self.routes.items())
        cmd += ["-A", f'ROUTES="{routes}"']
        if self.downstream:
            host, port = self.downstream
            cmd += ["-A", f'DOWNSTREAM="sip:{host}:{int(port)}"']
        if self.invite_auth:
            cmd += ["-A", "WITH_INVITE_AUTH"]
        if os.geteuid() == 0:
            user = _drop_user()
            if user:
                cmd += ["-u", user[0], "-g", user[1]]
        return cmd

    @property
    def ctl_socket(self):
        return self.run_dir / "ctl"

    def start(self, timeout=15.0):
        if self.proc and self.proc.poll() is None:
            raise RuntimeError("kamailio already running")
        self._make_run_dir()
        self.starts += 1
        with open(self.log_path, "ab") as log:
            log.write(f"===== start {self.starts}: {' '.join(self.command())}\n".encode())
        self.proc = subprocess.Popen(self.command(), stdout=open(self.log_path, "ab"),
                                     stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                     cwd=self.run_dir, start_new_session=True)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                if (self.starts == 1 and not self._fixed_port and
                        "Address already in use" in self.log().split("===== start")[-1]):
                    # someone took the free port between the check and the bind: once more
                    self.starts = 0
                    self.port = free_port()
                    shutil.rmtree(self.run_dir, ignore_errors=True)
                    return self.start(timeout)
                raise AssertionError(f"kamailio exited {self.proc.returncode} at start "
                                     f"(config error?)\n{self.log_tail()}")
            if self._answers_options() and self.ctl_socket.exists():
                return self
            time.sleep(0.1)
        self.stop()
        raise AssertionError(f"kamailio did not answer OPTIONS on {self.target} within "
                             f"{timeout} s\n{self.log_tail()}")

    def stop(self, timeout=10.0):
        """SIGTERM to the whole process group (main + children); returns the exit code."""
        if not self.proc:
            return None
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(5)
        # children of the group may linger a moment after main exits
        for _ in range(50):
            try:
                os.killpg(self.proc.pid, 0)
            except ProcessLookupError:
                break
            time.sleep(0.1)
        if self.run_dir and self.run_dir.exists():
            shutil.rmtree(self.run_dir, ignore_errors=True)
        return self.proc.returncode

    def restart(self, down_s=0.0, timeout=15.0):
        """Stops, optionally stays down down_s seconds, starts again on the same port.
        Registrations are lost (memory only)."""
        self.stop()
        if down_s:
            time.sleep(down_s)
        return self.start(timeout)

    def alive(self):
        return bool(self.proc) and self.proc.poll() is None

    # -- state -----------------------------------------------------------------------
    def kamcmd(self, *args, timeout=5.0):
        """Runs kamcmd against this instance; (returncode, stdout+stderr)."""
        proc = subprocess.run(["kamcmd", "-s", f"unix:{self.ctl_socket}", *args],
                              capture_output=True, text=True, timeout=timeout)
        return proc.returncode, proc.stdout + proc.stderr

    def contacts(self, user):
        """Contact URIs currently registered for user ([] if none)."""
        rc, out = self.kamcmd("ul.lookup", "location", user)
        if rc != 0:
            return []
        return [line.split(":", 1)[1].strip() for line in out.splitlines()
                if line.strip().startswith("Address:")]

    def registered(self, user):
        return bool(self.contacts(user))

    def wait_registered(self, user, timeout=10.0, registered=True):
        """Polls until user is (or, registered=False, is no longer) registered."""
        deadline = time.monotonic() + timeout
        while True:
            if self.registered(user) == registered:
                return True
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.2)

    def unregister(self, user):
        """Drops user's registrations on the server side (kamcmd ul.rm)."""
        return self.kamcmd("ul.rm", "location", user)[0] == 0

    def log(self):
        try:
            return self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return ""

    def log_tail(self, chars=6000):
        return f"--- kamailio log ({self.log_path}) ---\n{self.log()[-chars:]}"

    def script_log(self):
        """Only the config's own `e2e:` lines (request, routing and auth decisions)."""
        return [l.split("<script>: ", 1)[1] for l in self.log().splitlines()
                if "<script>: e2e:" in l]

    # -- helpers ---------------------------------------------------------------------
    def _make_run_dir(self):
        self.run_dir = pathlib.Path(tempfile.mkdtemp(prefix="atende-kam-"))
        os.chmod(self.run_dir, 0o755)
        if os.geteuid() == 0:
            user = _drop_user()
            if user:
                os.chown(self.run_dir, pwd.getpwnam(user[0]).pw_uid,
                         grp.getgrnam(user[1]).gr_gid)

    def _answers_options(self):
        call_id = uuid.uuid4().hex
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.bind((LOOPBACK, 0))
            lport = s.getsockname()[1]
            msg = (f"OPTIONS sip:{self.target} SIP/2.0\r\n"
                   f"Via: SIP/2.0/UDP {LOOPBACK}:{lport};branch=z9hG4bK{call_id[:12]};rport\r\n"
                   f"From: <sip:probe@{LOOPBACK}:{lport}>;tag={call_id[:8]}\r\n"
                   f"To: <sip:{self.target}>\r\nCall-ID: {call_id}\r\nCSeq: 1 OPTIONS\r\n"
                   f"Max-Forwards: 70\r\nContent-Length: 0\r\n\r\n").encode()
            s.settimeout(0.3)
            try:
                s.sendto(msg, (LOOPBACK, self.port))
                data = s.recv(65535)
            except OSError:
                return False
            return data.startswith(b"SIP/2.0 200")


def _route_value(value):
    """(host, port) -> "host:port" (R-URI kept); "sip:..." -> itself (R-URI replaced)."""
    if isinstance(value, str):
        if not value.startswith("sip:") or any(c in value for c in ',="\\ '):
            raise ValueError(f"route {value!r}: want (host, port) or a plain sip: URI")
        return value
    host, port = value
    return f"{_check_token(host, 'host')}:{int(port)}"


def _drop_user():
    """(user, group) to run as when started by root, or None to stay root."""
    for user, group in (("kamailio", "kamailio"), ("nobody", "nogroup")):
        try:
            pwd.getpwnam(user)
            grp.getgrnam(group)
            return user, group
        except KeyError:
            continue
    return None
