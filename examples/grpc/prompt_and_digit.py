#!/usr/bin/env python3
"""Play a prompt and collect a digit: take the next call ringing for a controller, answer
it, say "Please press a digit", wait for one key (RFC 4733 or SIP INFO on the caller's side; a "dtmf" event here),
say which it was, and hang up.

  python3 examples/grpc/prompt_and_digit.py --target 127.0.0.1:50051 --token $ATENDE_TOKEN
"""
import queue
import threading

import grpc

from atende_grpc import common_args, load_stubs, metadata, say


def main():
    p = common_args(__doc__)
    p.add_argument("--wait", type=int, default=60, help="seconds to wait for a call")
    p.add_argument("--digit-timeout", type=float, default=15.0,
                   help="seconds to wait for the key before giving up")
    args = p.parse_args()
    pb, pb_grpc = load_stubs(args.proto)
    stub = pb_grpc.AtendeStub(grpc.insecure_channel(args.target))

    outbox = queue.Queue()
    outbox.put(pb.ClientMsg(attach=pb.Attach(wait_seconds=args.wait)))
    digit = None
    state = "waiting"  # -> prompting -> done
    timer = None

    def give_up():
        outbox.put(pb.ClientMsg(say=pb.Say(text="No key was pressed. Goodbye.")))
        outbox.put(pb.ClientMsg(hangup=pb.HangupCall()))

    try:
        for msg in stub.Call(iter(outbox.get, None), metadata=metadata(args.token)):
            kind = msg.WhichOneof("msg")
            if kind == "attached":
                say(f"attached call={msg.attached.call_id}")
            elif kind == "event":
                ev = msg.event
                if ev.type == "ringing":
                    outbox.put(pb.ClientMsg(answer=pb.Answer()))  # pick up at once
                elif ev.type == "answered" and state == "waiting":
                    state = "prompting"
                    outbox.put(pb.ClientMsg(say=pb.Say(text="Please press a digit.")))
                    timer = threading.Timer(args.digit_timeout, give_up)
                    timer.daemon = True
                    timer.start()
                elif ev.type == "dtmf" and state == "prompting":
                    state = "done"
                    digit = ev.digit
                    timer.cancel()
                    say(f"digit={digit}")
                    # Stop the prompt if it is still playing, confirm, then hang up once
                    # the confirmation has been heard (playout_idle).
                    outbox.put(pb.ClientMsg(flush=pb.Flush()))
                    outbox.put(pb.ClientMsg(say=pb.Say(text=f"You pressed {digit}. Goodbye.")))
                elif ev.type == "playout_idle" and state == "done":
                    outbox.put(pb.ClientMsg(hangup=pb.HangupCall()))
                elif ev.type == "error":
                    say(f"error {ev.text}")
                elif ev.type == "hangup":
                    say(f"hangup {ev.reason}")
                    break
            # Audio frames (the caller) are not needed here: ignored.
    except grpc.RpcError as e:
        say(f"stream ended: {e.code().name}: {e.details()}")
        return 1
    finally:
        if timer:
            timer.cancel()
        outbox.put(None)
    return 0 if digit else 2


if __name__ == "__main__":
    raise SystemExit(main())
