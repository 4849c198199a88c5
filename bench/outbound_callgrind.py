#!/usr/bin/python3
"""Instructions per placed call vs. per inbound call, under callgrind (load-independent).

The same setup as outbound_rate.py (Kamailio proxy -> SIPp UAS for placed calls, SIPp UAC
straight at atende for inbound ones, flow `quickbye` both ways), but atende runs under
`valgrind --tool=callgrind` and the number is instructions (Ir), not CPU time: the box's
load does not move it. Per mode, on a fresh atende:
  1. start under callgrind, wait until ready; zero the counters (callgrind_control -z);
  2. idle for --idle-s seconds, dump: atende's instructions per second at rest;
  3. zero, place/answer --calls calls at --rate, wait until every record ended, dump;
  4. per call = (step 3's Ir - idle Ir/s * step 3's seconds) / successful calls.
Also kept: callgrind's dump files and `callgrind_annotate --inclusive=yes` of step 3, so
where the instructions go can be compared function by function.

Usage: bench/outbound_callgrind.py [--build-dir DIR] [--calls 600] [--rate 20]
       [--label before] [--out-dir DIR]
Writes <out-dir>/callgrind_<label>_{placed,inbound}.{out,txt} and prints a JSON summary
(<out-dir>/callgrind_<label>.json). Default out-dir: a temp dir under /tmp (dumps are big).
"""
import argparse
import json
import os
import pathlib
import shutil
import subprocess
import sys
import tempfile
import time

import bench_common as bc
import outbound_rate as orate
from harness.config import trunk, write_config
from harness.sipp import Sipp, SippUas


class CallgrindServer(bc.Server):
    def __init__(self, *args, out_file, **kwargs):
        super().__init__(*args, **kwargs)
        self.out_file = out_file

    def command(self):
        return ["valgrind", "--tool=callgrind", "--collect-atstart=yes",
                f"--callgrind-out-file={self.out_file}.%p"] + super().command()


def total_ir(path):
    with open(path) as f:
        for line in f:
            if line.startswith("totals:") or line.startswith("summary:"):
                return int(line.split()[1])
    raise RuntimeError(f"no totals in {path}")


def control(pid, flag):
    subprocess.run(["callgrind_control", flag, str(pid)], check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def newest_dump(out_file, pid, before):
    base = pathlib.Path(f"{out_file}.{pid}")
    cands = sorted(base.parent.glob(base.name + "*"), key=lambda p: p.stat().st_mtime)
    cands = [c for c in cands if c not in before]
    if not cands:
        raise RuntimeError(f"no new dump for {base}")
    return cands[-1]


def dump(server, out_file):
    pid = server.proc.pid
    base = pathlib.Path(f"{out_file}.{pid}")
    before = set(base.parent.glob(base.name + "*"))
    control(pid, "-d")
    for _ in range(600):
        try:
            path = newest_dump(out_file, pid, before)
            return path, total_ir(path)
        except RuntimeError:
            time.sleep(0.1)
    raise RuntimeError("callgrind dump did not appear")


def wait_idle(server, timeout=300):
    """Until no call is up (GET /metrics, cheap next to listing every record), then 1 s
    more for the store writer's last commit."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and orate.active_calls(server) not in (0, 0.0):
        time.sleep(0.5)
    time.sleep(1)


def run_mode(mode, args, binary, tmp, flows, config, kam, uas, out_dir):
    out_file = out_dir / f"callgrind_{args.label}_{mode}"
    # RTP ports from the harness's own blocks, checked free: outbound_rate's fixed
    # 10000-19999 collided with another session's bench ("cannot bind reserved RTP port").
    server = CallgrindServer("atende", binary, tmp / mode, max_calls=100000, out_file=out_file,
                             rtp_ports=400,
                             extra_args=["--log-level", "warn", "--flows-dir", str(flows),
                                         "--config", str(config)])
    server.start(ready_timeout=120)
    try:
        time.sleep(2)
        control(server.proc.pid, "-z")
        t0 = time.monotonic()
        time.sleep(args.idle_s)
        _, idle_ir = dump(server, out_file)
        idle_per_s = idle_ir / (time.monotonic() - t0)
        control(server.proc.pid, "-z")
        t0 = time.monotonic()
        if mode == "placed":
            proc, _ = orate.run_client(f"127.0.0.1:{server.http_port}", args.rate,
                                       args.calls / args.rate, 1, 600)
            out, _ = proc.communicate(timeout=900)
            res = json.loads(out)
            wait_idle(server)
        else:
            sipp = Sipp(orate.UAC_SCENARIO, server.sip_target, tmp / f"uac_{mode}",
                        service="quickbye", calls=args.calls, rate=args.rate,
                        limit=max(100, args.rate * 4), timeout_s=900, tag="uac",
                        trace_messages=False, extra_args=["-max_socket", "1000"])
            sipp.start()
            result = sipp.wait()
            wait_idle(server)
        elapsed = time.monotonic() - t0
        path, ir = dump(server, out_file)
        # Read back after the dump, so the reads are not counted (both modes alike).
        expected = len(res["ids"]) if mode == "placed" else result.successful
        calls, _ = orate.wait_all_ended(server, expected, 300)
        _, ok, reasons = orate.outcome(calls)
        net = ir - idle_per_s * elapsed
        with open(out_dir / f"callgrind_{args.label}_{mode}.txt", "w") as f:
            subprocess.run(["callgrind_annotate", "--inclusive=yes", "--threshold=99.5",
                            str(path)], stdout=f, check=False)
        return {"mode": mode, "calls": args.calls, "ok": ok, "failures": reasons,
                "seconds": round(elapsed, 1), "ir_total": ir,
                "idle_ir_per_s": round(idle_per_s), "ir_net": round(net),
                "ir_per_call": round(net / max(1, ok)), "dump": str(path)}
    finally:
        server.stop(timeout=120)
        # atende's warnings (a failed call says why there), kept next to the dumps.
        shutil.copy(server.stderr_path, out_dir / f"callgrind_{args.label}_{mode}.stderr.log")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build-dir")
    ap.add_argument("--calls", type=int, default=600)
    ap.add_argument("--rate", type=float, default=20)
    ap.add_argument("--idle-s", type=float, default=5)
    ap.add_argument("--label", default="run")
    ap.add_argument("--modes", default="placed,inbound")
    ap.add_argument("--out-dir")
    args = ap.parse_args()
    build = bc.find_build_dir(args.build_dir).resolve()
    binary = build / "atende"
    out_dir = pathlib.Path(args.out_dir or tempfile.mkdtemp(prefix="callgrind_"))
    out_dir.mkdir(parents=True, exist_ok=True)
    res = {"label": args.label, "machine": bc.machine(), "calls": args.calls,
           "rate": args.rate, "loadavg_start": round(os.getloadavg()[0], 2), "modes": {}}
    with tempfile.TemporaryDirectory() as tmpname:
        tmp = pathlib.Path(tmpname)
        flows = tmp / "flows"
        flows.mkdir()
        (flows / "quickbye.yaml").write_text(orate.FLOW)
        uas = SippUas(orate.UAS_SCENARIO, tmp / "uas", calls=args.calls * 2 + 100, echo=False,
                      ring_ms=0, timeout_s=3600, trace_messages=False,
                      extra_args=["-max_socket", "1000"]).start()
        kam = orate.BenchKamailio(tmp, downstream=("127.0.0.1", uas.port), tcp=False, debug=1,
                                  shm_mb=128).start()
        try:
            config = write_config(
                tmp, api_tokens=[{"name": "bench", "token": orate.TOKEN, "allow": ["1xxx"],
                                  "rate_per_minute": 100000, "burst": 10000}],
                trunks=[trunk("carrier", kam, default=True)])
            for mode in args.modes.split(","):
                res["modes"][mode] = run_mode(mode, args, binary, tmp, flows, config, kam, uas,
                                              out_dir)
                print(json.dumps(res["modes"][mode]), flush=True)
        finally:
            kam.stop()
            uas.stop()
    m = res["modes"]
    if "placed" in m and "inbound" in m:
        res["ratio"] = round(m["placed"]["ir_per_call"] / m["inbound"]["ir_per_call"], 3)
    res["loadavg_end"] = round(os.getloadavg()[0], 2)
    (out_dir / f"callgrind_{args.label}.json").write_text(json.dumps(res, indent=1))
    print(json.dumps(res, indent=1))


if __name__ == "__main__":
    sys.exit(main())
