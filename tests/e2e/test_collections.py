"""Collections (cobrança) over SIP, fully offline.

English (flows/collections.yaml): baresip calls from a number in flows/data/debtors.csv and
answers by espeak-ng speech; atende hears it through the WebRTC VAD, the turn detector and
pocketsphinx in grammar mode. The caller gives the last four digits of the document, hears
the debt, chooses to pay in full, promises to pay on Friday and confirms. The store must
hold identity_verified and promise_to_pay (a Friday after today, option full).

Portuguese (flows/cobranca.yaml, keypad only): an unknown number gives the account, the
document digits, chooses installments, types day 10 and confirms; and a caller who types
wrong digits three times is told so politely, with identity_failed recorded.

Each answer is placed just after the end of the question it answers, from the lengths of
the server's own prompts (the same espeak-ng), plus the time the server takes to notice the
end of the previous answer and recognise it. Keypad answers are sent when the call record
shows the question's step."""
import datetime
import time

import pytest

from harness import conversation as conv
from harness.baresip import Baresip

pytestmark = pytest.mark.atende_only

EN_WPM = 160  # flows/collections.yaml voice rate
# From the end of an answer to the next prompt: end of turn (0.6 s of silence), recognition,
# next step (measured ~0.62 s on the release build). Each answer starts AFTER_PROMPT
# seconds after its question should have ended: a short answer ("yes") said over a prompt
# is taken for a backchannel, and the flow waits 5 s for an answer, so being a little late
# is safe and being early is not.
TURN_SECONDS = 0.8
AFTER_PROMPT = 1.0
HELLO = "Hello, this is the billing department of Acme Credit."
VERIFY = "For your security, please say or type the last four digits of your document."
DEBT = ("Thank you, Mary Jones. Your balance is one thousand two hundred thirty-four dollars "
        "and fifty-six cents, due on Thursday, December tenth.")
OPTION = ("How would you like to settle it? Say pay in full, installments, agent, or dispute. "
          "Or press 1 for full payment, 2 for installments, 3 for an agent, 4 to dispute.")
PROMISE = ("On which day will you pay? Say a day such as Friday or day ten, or type the day "
           "of the month, then press hash.")
ORDINALS = ("first second third fourth fifth sixth seventh eighth ninth tenth eleventh twelfth "
            "thirteenth fourteenth fifteenth sixteenth seventeenth eighteenth nineteenth "
            "twentieth").split()


def _next_friday_words():
    """How the server reads the coming Friday ("Friday, November twenty-seventh")."""
    today = datetime.date.today()
    day = today + datetime.timedelta(days=(4 - today.weekday()) % 7 or 7)
    n = day.day
    ordinal = (ORDINALS[n - 1] if n <= 20 else "thirtieth" if n == 30 else
               ("twenty-" if n < 30 else "thirty-") + ORDINALS[n % 10 - 1])
    return f"Friday, {day.strftime('%B')} {ordinal}"


CONFIRM = f"So you will pay in full, on {_next_friday_words()}. Is that right?"
THANKS = (f"Thank you. Your promise to pay on {_next_friday_words()} is registered, and the "
          "payment details will be sent to you by text message. Goodbye.")


def _spoken_timeline(audiotool, workdir):
    """[(start, text)]: each answer shortly after its question has been said."""
    def length(text):
        return conv.seconds(audiotool, workdir, text, wpm=EN_WPM)

    def answer_length(text):
        return len(conv.synth(audiotool, workdir, text, name="len")) / conv.RATE

    answers = []
    t = 0.3 + length(HELLO) + length(VERIFY) + AFTER_PROMPT
    for text, prompts_after in [("four three two one", [DEBT, OPTION]),
                                ("pay in full", [PROMISE]),
                                ("friday", [CONFIRM]),
                                ("yes", [THANKS])]:
        answers.append((t, text))
        t += answer_length(text) + TURN_SECONDS + sum(length(p) for p in prompts_after)
        t += AFTER_PROMPT
    return answers, t + 3


def test_collections_by_speech_promise_to_pay_on_friday(server, workdir, audiotool):
    if not audiotool:
        pytest.skip("tools/audiotool is not built")
    answers, total = _spoken_timeline(audiotool, workdir)
    mic = conv.timeline_wav(audiotool, workdir, answers, total_seconds=total + 10)
    phone = Baresip(workdir, mic, max_seconds=int(total) + 30, user="+15550100").start()
    try:
        assert phone.dial(f"sip:collections@{server.sip_target}") is not None, phone.log()
        call_id = conv.current_call(server)
        rec = conv.wait_ended(server, call_id, total + 15)
    finally:
        phone.stop()

    events = [(e["kind"], e["detail"]) for e in rec["events"]]
    assert rec["flow"] == "collections", rec
    assert rec.get("ended_at"), f"the flow did not finish the call; answers {answers}: {events}"
    verified = conv.recorded(rec, "identity_verified")
    assert verified and verified["debtor_account"] == "40021", events
    promise = conv.recorded(rec, "promise_to_pay")
    assert promise, f"no promise_to_pay; answers {answers}; events {events}"
    assert promise["option"] == "full", promise
    day = datetime.date.fromisoformat(promise["promise_date"])
    today = datetime.date.today()
    assert day.weekday() == 4 and today < day <= today + datetime.timedelta(days=7), promise
    assert ("hangup", "flow: thanks") in events, events
    assert rec["end_reason"] in ("local_bye", "remote_bye"), rec


def _keypad_call(server, workdir, user, steps, *, uri="cobranca"):
    """Calls `uri` from `user` with a silent microphone; for each (step, digits) waits until
    the flow enters the step, then presses the digits. Returns the ended call record."""
    mic = conv.silent_wav(workdir, 90)
    phone = Baresip(workdir, mic, max_seconds=120, user=user).start()
    try:
        assert phone.dial(f"sip:{uri}@{server.sip_target}") is not None, phone.log()
        call_id = conv.current_call(server)
        for step, digits in steps:
            conv.wait_event(server, call_id, "step", step, timeout=40)
            phone.send_digits(digits)
        rec = conv.wait_ended(server, call_id, 60)
    finally:
        phone.stop()
    return rec


def test_cobranca_by_keypad_account_then_installments(server, workdir):
    rec = _keypad_call(server, workdir, "peer", [("account", "40022#"), ("verify", "8765"),
                                                 ("option", "2"), ("promise_date", "10#"),
                                                 ("confirm", "1")])
    events = [(e["kind"], e["detail"]) for e in rec["events"]]
    assert rec.get("ended_at"), events
    assert ("lookup_missing", "find_by_phone peer") in events, events
    verified = conv.recorded(rec, "identity_verified")
    assert verified and verified["debtor_name"] == "John Smith", events
    promise = conv.recorded(rec, "promise_to_pay")
    assert promise and promise["option"] == "installments", events
    day = datetime.date.fromisoformat(promise["promise_date"])
    assert day.day == 10 and day >= datetime.date.today(), promise
    assert ("hangup", "flow: thanks") in events, events
    assert rec["end_reason"] in ("local_bye", "remote_bye"), rec


def test_cobranca_wrong_document_three_times_ends_politely(server, workdir):
    # Known by the caller's number (Maria Souza, document 1357); the re-asks are the same
    # step, so wait for each apology before typing again.
    mic = conv.silent_wav(workdir, 90)
    phone = Baresip(workdir, mic, max_seconds=120, user="+5511987654321").start()
    try:
        assert phone.dial(f"sip:cobranca@{server.sip_target}") is not None, phone.log()
        call_id = conv.current_call(server)
        conv.wait_event(server, call_id, "step", "verify", timeout=40)
        for attempt in range(3):
            phone.send_digits("2222")
            if attempt < 2:
                _wait_count(server, call_id, "mismatch", attempt + 1)
        rec = conv.wait_ended(server, call_id, 60)
    finally:
        phone.stop()
    events = [(e["kind"], e["detail"]) for e in rec["events"]]
    assert rec.get("ended_at"), events
    assert len(conv.details(rec, "mismatch")) == 3, events
    assert conv.recorded(rec, "identity_failed") is not None, events
    assert conv.recorded(rec, "identity_verified") is None, events
    assert ("hangup", "flow: identity_goodbye") in events, events
    assert rec["end_reason"] in ("local_bye", "remote_bye"), rec


def _wait_count(server, call_id, kind, n, timeout=30.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if len(conv.details(conv.record(server, call_id), kind)) >= n:
            return
        time.sleep(0.2)
    raise AssertionError(f"fewer than {n} {kind} events")
