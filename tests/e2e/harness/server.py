"""The server under test as a child process: atende itself, or baseline_sofia_uas (a bare
sofia-sip UAS, used to check the SIPp scenarios and this harness before atende exists)."""
import json
import os
import pathlib
import signal
import subprocess
import time

from . import http_api
from .ports import LOOPBACK, free_port, free_udp_range, release
from .sip_raw import options_ping

# Lines that mean the process crashed or hit undefined behaviour, whatever its exit code.
CRASH_MARKERS = (
    "ERROR: AddressSanitizer",
    "ERROR: LeakSanitizer",
    "runtime error:",
    "Segmentation fault",
    "terminate called",
    "stack-overflow",
    "Assertion `",
)


class Server:
    def __init__(self, kind, binary, workdir, *, max_calls=None, extra_args=(), rtp_ports=40,
                 data_dir=None):
        """data_dir: another server's (a restart on the same store); default workdir/data."""
        self.kind = kind
        self.binary = str(binary)
        self.workdir = pathlib.Path(workdir)
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.sip_port = free_port()
        self.http_port = free_port() if kind == "atende" else None
        self.rtp_range = free_udp_range(rtp_ports)
        self.data_dir = pathlib.Path(data_dir) if data_dir else self.workdir / "data"
        self.data_dir.mkdir(exist_ok=True)
        self.stderr_path = self.workdir / f"{kind}.stderr.log"
        self.stdout_path = self.workdir / f"{kind}.stdout.log"
        self.max_calls = max_calls
        self.extra_args = list(extra_args)
        self.proc = None
        self.exit_code = None
        self.killed = False  # by kill(): teardown expects no clean exit from it

    @property
    def host(self):
        return LOOPBACK

    @property
    def sip_target(self):
        return f"{LOOPBACK}:{self.sip_port}"

    @property
    def http_base(self):
        return f"http://{LOOPBACK}:{self.http_port}" if self.http_port else None

    def command(self):
        if self.kind == "baseline":
            return [self.binary, "--listen", self.sip_target]
        cmd = [self.binary, "serve", "--sip-listen", self.sip_target,
               "--http-listen", f"{LOOPBACK}:{self.http_port}",
               "--rtp-ports", f"{self.rtp_range[0]}-{self.rtp_range[1]}",
               "--data-dir", str(self.data_dir), "--log-format", "text"]
        source = os.environ.get("ATENDE_SOURCE_DIR")
        if source and (pathlib.Path(source) / "flows").is_dir():
            cmd += ["--flows-dir", str(pathlib.Path(source) / "flows")]
        if self.max_calls is not None:
            cmd += ["--max-calls", str(self.max_calls)]
        return cmd + self.extra_args

    def start(self, ready_timeout=20.0):
        env = dict(os.environ)
        # Sanitizer builds: make reports land in stderr and make leaks/UB fatal and visible.
        env.setdefault("ASAN_OPTIONS", "abort_on_error=0:detect_leaks=1")
        env.setdefault("UBSAN_OPTIONS", "print_stacktrace=1")
        # sofia's TLS context lives until exit and is not freed: lsan.supp says why.
        supp = pathlib.Path(__file__).resolve().parent.parent / "lsan.supp"
        env.setdefault("LSAN_OPTIONS", f"suppressions={supp}")
        for attempt in range(3):
            self.proc = subprocess.Popen(self.command(), stdout=open(self.stdout_path, "wb"),
                                         stderr=open(self.stderr_path, "wb"), env=env,
                                         cwd=self.workdir)
            if not self._wait_ready(ready_timeout) and attempt < 2:
                # A port was taken between picking and binding (by a process outside the
                # harness's port blocks): try again on fresh ones.
                self._repick_ports()
                continue
            if self.http_base:
                http_api.use_token(self.http_base, self.read_token())
            return self
        return self

    def read_token(self):
        """The first literal API token of the --config file when reads need one (tokens
        configured, api_read_requires_token not false); None otherwise."""
        args = self.extra_args
        if "--config" not in args[:-1]:
            return None
        sections = {}
        try:
            with open(args[args.index("--config") + 1]) as f:
                for line in f:  # harness configs: one `key: <JSON>` per line (config.py)
                    key, _, value = line.partition(":")
                    try:
                        sections[key.strip()] = json.loads(value)
                    except ValueError:
                        pass
        except OSError:
            return None
        if sections.get("api_read_requires_token") is False:
            return None
        for t in sections.get("api_tokens") or []:
            token = t.get("token", "") if isinstance(t, dict) else ""
            if token and "${" not in token:
                return token
        return None

    def _repick_ports(self):
        release(range(self.rtp_range[0], self.rtp_range[1] + 1))
        self.sip_port = free_port()
        self.http_port = free_port() if self.kind == "atende" else None
        self.rtp_range = free_udp_range(self.rtp_range[1] - self.rtp_range[0] + 1)

    def _wait_ready(self, timeout):
        """True once ready; False if it exited because an address was in use."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                if "Address already in use" in self.stderr_text():
                    return False
                raise AssertionError(
                    f"{self.kind} exited with {self.proc.returncode} before it was ready\n"
                    f"command: {' '.join(self.command())}\n{self.log_tail()}")
            if self._ready():
                return True
            time.sleep(0.1)
        raise AssertionError(f"{self.kind} not ready after {timeout} s\n{self.log_tail()}")

    def _ready(self):
        if self.kind == "atende":
            try:
                status, _ = http_api.get(self.http_base + "/readyz", timeout=0.5)
            except OSError:
                return False
            if status != 200:
                return False
        return options_ping(self.sip_port, timeout=0.5) is not None

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def pid(self):
        return self.proc.pid

    def kill(self):
        """SIGKILL, as a crash or the OOM killer would: no drain, no flush. Returns the wall
        time (time.time()) just before the signal."""
        at = time.time()
        self.killed = True
        self.proc.send_signal(signal.SIGKILL)
        # The kernel ends it once every thread leaves the kernel: a thread in fsync() on a
        # busy disk can take seconds (an ASan build on a loaded CI machine took over 10).
        self.proc.wait(60)
        self._release_rtp()
        return at

    def stop(self, timeout=30.0):  # atende drains calls for up to 20 s on SIGTERM
        """SIGTERM, wait, and return the exit code (SIGKILL after timeout: returns None)."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                self.exit_code = None
                return None
        self.exit_code = self.proc.returncode
        self._release_rtp()
        return self.exit_code

    def _release_rtp(self):
        # Only the RTP range goes back to the pool: it is large, and once the process has
        # exited no socket of it holds those ports. Signalling ports stay taken (TCP
        # TIME_WAIT) and are plenty.
        release(range(self.rtp_range[0], self.rtp_range[1] + 1))

    def stderr_text(self):
        try:
            return self.stderr_path.read_text(errors="replace")
        except FileNotFoundError:
            return ""

    def crash_report(self):
        """The first crash/sanitizer line found in stderr (or death by a signal), or None."""
        if self.proc is not None and (self.proc.poll() or 0) < 0:
            return f"killed by signal {-self.proc.returncode}"
        for line in self.stderr_text().splitlines():
            if any(marker in line for marker in CRASH_MARKERS):
                return line
        return None

    def log_tail(self, lines=60):
        text = self.stderr_text().splitlines()[-lines:]
        return f"--- last {len(text)} lines of {self.stderr_path} ---\n" + "\n".join(text)

    def assert_healthy(self):
        """The server is still running, answers SIP, and logged no crash."""
        assert self.alive(), f"{self.kind} died (exit {self.proc.returncode})\n{self.log_tail()}"
        report = self.crash_report()
        assert report is None, f"{self.kind} reported: {report}\n{self.log_tail()}"
        assert options_ping(self.sip_port, timeout=3.0) is not None, (
            f"{self.kind} stopped answering SIP OPTIONS\n{self.log_tail()}")
