#!/usr/bin/env python3
"""Answer and echo: take the next call ringing for a controller (a dial plan entry with
`flow: controller`), let it ring a moment, answer it, and send the caller's own voice back,
frame by frame, until someone hangs up. With --reject STATUS the call is refused instead
(486 busy, 603 decline ...): the caller gets that SIP status.

  python3 examples/grpc/answer_echo.py --target 127.0.0.1:50051 --token $ATENDE_TOKEN
"""
import queue
import threading

import grpc

from atende_grpc import common_args, load_stubs, metadata, say


def main():
    p = common_args(__doc__)
    p.add_argument("--call-id", default="", help="take this call (default: the next parked)")
    p.add_argument("--wait", type=int, default=60, help="seconds to wait for a call")
    p.add_argument("--ring-seconds", type=float, default=1.0,
                   help="how long the caller hears ringing before we answer")
    p.add_argument("--reject", type=int, default=0,
                   help="refuse the call with this SIP status instead of answering it")
    args = p.parse_args()
    pb, pb_grpc = load_stubs(args.proto)
    stub = pb_grpc.AtendeStub(grpc.insecure_channel(args.target))

    # What we send: a queue the stream reads from; None closes our side.
    outbox = queue.Queue(maxsize=200)
    outbox.put(pb.ClientMsg(attach=pb.Attach(call_id=args.call_id, wait_seconds=args.wait)))
    echoed = 0
    try:
        for msg in stub.Call(iter(outbox.get, None), metadata=metadata(args.token)):
            kind = msg.WhichOneof("msg")
            if kind == "attached":
                say(f"attached call={msg.attached.call_id} from={getattr(msg.attached, 'from')}")
            elif kind == "audio":
                # 20 ms of the caller, straight back. A full queue means the network is
                # slower than real time: drop rather than fall behind.
                try:
                    outbox.put_nowait(pb.ClientMsg(audio=pb.Audio(
                        pcm=msg.audio.pcm, sample_rate=msg.audio.sample_rate)))
                    echoed += 1
                except queue.Full:
                    pass
            elif kind == "event":
                say(f"event {msg.event.type} {msg.event.reason or msg.event.digit}".rstrip())
                if msg.event.type == "ringing":
                    # The caller hears ringing (SIP 180) until we decide.
                    if args.reject:
                        outbox.put(pb.ClientMsg(reject=pb.Reject(status=args.reject)))
                    else:
                        answer = pb.ClientMsg(answer=pb.Answer())
                        timer = threading.Timer(args.ring_seconds, outbox.put, (answer,))
                        timer.daemon = True
                        timer.start()
                elif msg.event.type == "hangup":
                    break
    except grpc.RpcError as e:
        say(f"stream ended: {e.code().name}: {e.details()}")
        return 1
    finally:
        outbox.put(None)
    say(f"echoed {echoed} frames")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
