"""Running SIPp (Debian package sip-tester, 3.6.1) and reading its results.

SIPp exit codes: 0 = every call succeeded, 1 = at least one failed, 97 = stopped by an
internal command, 99 = normal exit without calls processed, 255/254 = fatal/bind error.
"""
import dataclasses
import pathlib
import re
import subprocess
import time

from .ports import LOOPBACK, _tcp_free, _udp_free, free_port

SCENARIO_DIR = pathlib.Path(__file__).resolve().parent.parent / "sipp"
DTMF_PCAP_DIR = pathlib.Path("/usr/share/sip-tester")  # dtmf_2833_<digit>.pcap, PT 101


def scenario_path(name):
    """tests/e2e/sipp/<name>.xml, or a built-in scenario name ("uac") returned as is."""
    path = SCENARIO_DIR / f"{name}.xml"
    return path if path.exists() else name


def dtmf_pcap(digit):
    name = {"*": "star", "#": "pound"}.get(digit, digit)
    return DTMF_PCAP_DIR / f"dtmf_2833_{name}.pcap"


@dataclasses.dataclass
class SippResult:
    returncode: int
    stats: dict
    messages: str
    errors: str
    stdout: str
    command: list

    @property
    def successful(self):
        return int(self.stats.get("SuccessfulCall(C)", 0))

    @property
    def failed(self):
        return int(self.stats.get("FailedCall(C)", 0))

    @property
    def created(self):
        return int(self.stats.get("TotalCallCreated", 0))

    def explain(self):
        return (f"sipp exit {self.returncode}: created={self.created} "
                f"ok={self.successful} failed={self.failed}\ncommand: {' '.join(self.command)}\n"
                f"--- errors ---\n{self.errors[-3000:]}\n--- messages (tail) ---\n"
                f"{self.messages[-4000:]}\n--- stdout (tail) ---\n{self.stdout[-1500:]}")


def read_stats(path):
    """The last row of SIPp's ';'-separated statistics CSV, as {column: value}."""
    try:
        lines = [l for l in pathlib.Path(path).read_text(errors="replace").splitlines() if l]
    except FileNotFoundError:
        return {}
    if len(lines) < 2:
        return {}
    names = lines[0].rstrip(";").split(";")
    values = lines[-1].rstrip(";").split(";")
    return dict(zip(names, values))


class Sipp:
    """One SIPp run. start() returns at once; wait() collects the result."""

    def __init__(self, scenario, target, workdir, *, service="echo", calls=1, rate=None,
                 limit=None, transport="u1", timeout_s=30, variables=None, extra_args=(),
                 substitutions=None, duration_ms=None, trace_messages=True, tag="sipp",
                 local_ip=LOOPBACK):
        self.workdir = pathlib.Path(workdir)
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.tag = tag
        self.local_port = free_port(host=local_ip)
        self.media_port = free_port(span=4, host=local_ip)
        self.stat_file = self.workdir / f"{tag}.stat.csv"
        self.msg_file = self.workdir / f"{tag}.messages.log"
        self.err_file = self.workdir / f"{tag}.errors.log"
        self.stdout_file = self.workdir / f"{tag}.stdout.log"
        self.timeout_s = timeout_s
        scen = scenario_path(scenario)
        if substitutions:  # scenario templates: @NAME@ placeholders filled in per run
            text = scen.read_text()
            for key, value in substitutions.items():
                text = text.replace(f"@{key}@", str(value))
            scen = self.workdir / f"{tag}.xml"
            scen.write_text(text)
        cmd = ["sipp", target, "-i", local_ip, "-p", str(self.local_port),
               "-mi", local_ip, "-mp", str(self.media_port), "-s", service, "-m", str(calls),
               "-t", transport, "-nostdin", "-timeout", f"{timeout_s}s", "-timeout_error",
               "-trace_stat", "-stf", str(self.stat_file), "-fd", "1",
               "-trace_err", "-error_file", str(self.err_file),
               "-max_recv_loops", "1000"]
        if trace_messages:  # every message to a file: great for failures, costly under load
            cmd += ["-trace_msg", "-message_file", str(self.msg_file)]
        cmd += ["-sf", str(scen)] if isinstance(scen, pathlib.Path) else ["-sn", scen]
        if rate is not None:
            cmd += ["-r", str(rate)]
        if duration_ms is not None:  # what a bare <pause/> waits
            cmd += ["-d", str(duration_ms)]
        if limit is not None:
            cmd += ["-l", str(limit)]
        for key, value in (variables or {}).items():
            cmd += ["-set", key, str(value)]
        self.command = cmd + list(extra_args)
        self.proc = None

    def start(self):
        self.proc = subprocess.Popen(self.command, cwd=self.workdir,
                                     stdout=open(self.stdout_file, "wb"),
                                     stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        return self

    def wait(self):
        try:
            rc = self.proc.wait(self.timeout_s + 30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            rc = self.proc.wait()
        return SippResult(rc, read_stats(self.stat_file), _read(self.msg_file),
                          _read(self.err_file), _read(self.stdout_file), self.command)

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
        return self.wait()


class SippUas(Sipp):
    """A SIPp UAS scenario in the background on its own free port: the callee of a test.

        uas = SippUas("uas_answer", workdir).start()       # listens on uas.port at once
        ... something calls sip:1001@{uas.target} ...
        result = uas.wait()                                 # SippResult; .successful == 1

    calls: how many calls it serves before exiting (SIPp -m). echo: -rtp_echo (RTP on
    media_port comes back to its sender). ring_ms: uas_answer's ringing time (the scenario's
    bare <pause/>, SIPp -d). early_ms: uas_early_media's 183 -> 200 delay. timeout_s: the
    whole run (SIPp -timeout; a call still open then fails). Other keyword arguments as Sipp.
    """

    def __init__(self, scenario, workdir, *, calls=1, echo=True, ring_ms=0, early_ms=None,
                 timeout_s=60, transport="u1", variables=None, extra_args=(),
                 substitutions=None, trace_messages=True, tag=None):
        tag = tag or f"uas-{pathlib.Path(str(scenario)).stem}-{free_port()}"
        tcp = not transport.startswith("u")
        if early_ms is not None or tcp:
            text = pathlib.Path(scenario_path(scenario)).read_text()
            if early_ms is not None:
                text = text.replace('timeout="3000" ontimeout="answer"',
                                    f'timeout="{int(early_ms)}" ontimeout="answer"')
            if tcp:
                # The final <timewait> absorbs UDP retransmissions; over TCP the caller
                # closing its connection meanwhile would count the call as failed
                # (FailedTcpClosed), and there are no retransmissions to absorb.
                text = re.sub(r"<timewait [^>]*/>", "", text)
            workdir = pathlib.Path(workdir)
            workdir.mkdir(parents=True, exist_ok=True)
            scenario = workdir / f"{tag}.src.xml"
            scenario.write_text(text)
        super().__init__(scenario, "", workdir, service="uas", calls=calls, timeout_s=timeout_s,
                         transport=transport, variables=variables, substitutions=substitutions,
                         duration_ms=ring_ms, trace_messages=trace_messages, tag=tag,
                         extra_args=(["-rtp_echo"] if echo else []) + list(extra_args))
        # Sipp put the (empty) target first; a UAS has none.
        self.command = [c for i, c in enumerate(self.command) if not (i == 1 and c == "")]
        if "-s" in self.command:  # -s means nothing to a UAS
            i = self.command.index("-s")
            del self.command[i:i + 2]

    @property
    def port(self):
        return self.local_port

    @property
    def target(self):
        return f"{LOOPBACK}:{self.local_port}"

    def uri(self, user="uas"):
        return f"sip:{user}@{self.target}"

    def start(self, timeout=5.0):
        super().start()
        # SIPp binds before it reads the scenario's first message: wait for the port.
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"sipp UAS exited {self.proc.returncode} at start\n"
                                     f"{_read(self.stdout_file)[-3000:]}")
            if not _udp_free(self.local_port) or not _tcp_free(self.local_port):
                return self
            time.sleep(0.05)
        raise AssertionError(f"sipp UAS never bound {self.target}\n{_read(self.stdout_file)}")

    def alive(self):
        return self.proc is not None and self.proc.poll() is None


def register(target, workdir, user, password, *, expires=60, expect=200, auth_user=None,
             timeout_s=10, tag=None):
    """One REGISTER with digest auth via sipp/uac_register.xml: expects 401, then `expect`
    (200, or 403 for a wrong password). Returns the SippResult (returncode 0 = as expected).
    The registered Contact is sip:USER@127.0.0.1:<result's local port>."""
    sipp = Sipp("uac_register", target, workdir, service=user, timeout_s=timeout_s,
                substitutions={"EXPIRES": expires, "FINAL": expect},
                extra_args=["-au", auth_user or user, "-ap", password],
                tag=tag or f"register-{user}-{free_port()}")
    return sipp.start().wait()


def run_sipp(scenario, target, workdir, **kwargs):
    return Sipp(scenario, target, workdir, **kwargs).start().wait()


def _read(path):
    try:
        return pathlib.Path(path).read_text(errors="replace")
    except FileNotFoundError:
        return ""


def dtmf_actions(digits, gap_ms=600):
    """play_pcap_audio actions for uac_dtmf.xml's @DTMF_PCAPS@ placeholder. Each bundled
    pcap is one RFC 4733 event of ~200 ms; gap_ms spaces the digits apart."""
    parts = []
    for d in digits:
        parts.append(f'  <nop><action><exec play_pcap_audio="{dtmf_pcap(d)}"/></action></nop>\n'
                     f'  <pause milliseconds="{gap_ms}"/>')
    return "\n".join(parts)
