#!/usr/bin/env python3
"""Place a call and bridge it to a second one: dial FIRST and SECOND, wait until both have
answered (each call's stream says "answered"), connect them (Bridge), let them talk, then
hang up.

  python3 examples/grpc/dial_and_bridge.py --target 127.0.0.1:50051 --token $ATENDE_TOKEN \\
      --first 1001 --second sip:bob@10.0.0.7 --talk-seconds 30
"""
import queue
import threading
import time

import grpc

from atende_grpc import common_args, load_stubs, metadata, say


def follow(stub, pb, call_id, token, events):
    """Attach to `call_id` and report each event (call_id, event) into `events`."""
    outbox = queue.Queue()
    outbox.put(pb.ClientMsg(attach=pb.Attach(call_id=call_id)))
    try:
        for msg in stub.Call(iter(outbox.get, None), metadata=metadata(token)):
            if msg.WhichOneof("msg") == "event":
                events.put((call_id, msg.event))
                if msg.event.type == "hangup":
                    break
    except grpc.RpcError as e:
        events.put((call_id, f"stream ended: {e.code().name}: {e.details()}"))
    finally:
        outbox.put(None)
        events.put((call_id, None))


def main():
    p = common_args(__doc__)
    p.add_argument("--first", required=True, help="number or sip: URI to dial first")
    p.add_argument("--second", required=True, help="number or sip: URI to bridge it to")
    p.add_argument("--talk-seconds", type=float, default=5.0)
    p.add_argument("--answer-timeout", type=float, default=40.0)
    args = p.parse_args()
    pb, pb_grpc = load_stubs(args.proto)
    stub = pb_grpc.AtendeStub(grpc.insecure_channel(args.target))
    md = metadata(args.token)

    try:
        a = stub.Dial(pb.DialRequest(to=args.first), metadata=md).call_id
        b = stub.Dial(pb.DialRequest(to=args.second), metadata=md).call_id
    except grpc.RpcError as e:
        say(f"dial refused: {e.code().name}: {e.details()}")
        return 1
    say(f"dialled first={a} second={b}")

    events = queue.Queue()
    for call_id in (a, b):
        threading.Thread(target=follow, args=(stub, pb, call_id, args.token, events),
                         daemon=True).start()
    answered = set()
    deadline = time.monotonic() + args.answer_timeout
    while answered != {a, b}:
        try:
            call_id, ev = events.get(timeout=max(0.1, deadline - time.monotonic()))
        except queue.Empty:
            say("not answered in time")
            stub.Hangup(pb.CallRef(call_id=a), metadata=md)
            stub.Hangup(pb.CallRef(call_id=b), metadata=md)
            return 1
        if ev is None or isinstance(ev, str) or ev.type == "hangup":
            say(f"call {call_id} ended before the bridge: {getattr(ev, 'reason', ev)}")
            for other in (a, b):
                try:
                    stub.Hangup(pb.CallRef(call_id=other), metadata=md)
                except grpc.RpcError:
                    pass  # already ended
            return 1
        say(f"{call_id}: {ev.type}")
        if ev.type == "answered":
            answered.add(call_id)

    stub.Bridge(pb.BridgeRequest(call_id=a, other_call_id=b), metadata=md)
    say(f"bridged {a} {b}")
    # Both streams end now ("released"): the calls are each other's, not ours. They talk.
    time.sleep(args.talk_seconds)
    try:
        stub.Hangup(pb.CallRef(call_id=a), metadata=md)
        say("hung up")
    except grpc.RpcError as e:
        say(f"hang-up: {e.code().name}: {e.details()}")  # one side hung up first
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
