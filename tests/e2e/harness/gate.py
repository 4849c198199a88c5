"""The gate attendant's two calls over real phones (tests/e2e/test_gate_two_calls*.py): the
visitor is a baresip calling `gate`, the resident a baresip reached through a Kamailio trunk
at the extension residents.csv gives (2302 for Mary Jones). Each phone's microphone is a
timeline of espeak-ng answers placed after the prompts it will hear, measured with the
server's own synthesis (tools/audiotool), so the timing follows the flows' wording. The
visitor's name is recorded, not recognised (portaria's `capture` step), and the resident
hears that recording inside the question: its length is the visitor's answer's."""
import pathlib
import time

from . import http_api
from .audio import find_phrase, read_wav, server_speech_wav, write_wav
from .baresip import Baresip, callee
from .config import write_config
from .conversation import current_call, record, seconds, timeline_wav
from .kamailio import Kamailio

WPM = 160  # portaria.yaml and gate_resident.yaml speak at this rate
ANSWER_AFTER_S = 0.8  # a caller answers this long after the prompt ends
TURN_S = 1.2  # end of turn (~0.6 s of silence) + recognition before the next prompt

VISITOR_WPM = 165  # the phones' answers (timeline_wav speaks them at this rate)
# Not a resident: the name is only recorded and played back, never recognised.
VISITOR_NAME = "Carlos Souza"


class Recorded(str):
    """A piece of a prompt that is the visitor's recording: it lasts as long as the visitor
    took to say it."""


VISITOR_PROMPTS = [
    ("Hello, this is the gate. Please say your name.", VISITOR_NAME),
    ("Who are you visiting?", "Mary Jones"),
    ("Which apartment are you going to? You can also type it, then press hash.",
     "three zero two"),
    ("Is it a visit, a delivery, or a service? Press 1, 2 or 3.", "delivery"),
    ("You are visiting Mary Jones in apartment 3 0 2, for a delivery. Is that right?", "yes"),
]
# gate_resident's question as the server says it: text, the visitor's recorded name, text.
_ASKS = ("is at the gate for Mary Jones, asking for a delivery. Do you authorise? Say yes or "
         "no, or press 1 or 2.")
RESIDENT_PROMPT = ("Hello, resident of apartment 3 0 2!", Recorded(VISITOR_NAME), _ASKS)
RESIDENT_AGAIN = (Recorded(VISITOR_NAME), _ASKS)
OUTCOME_PHRASES = {
    "authorised": "The resident authorised your entry. Please come in. Goodbye.",
    "denied": "Sorry, the resident did not authorise your entry. Goodbye.",
    "not_answering": "Sorry, the resident is not answering. Please try again later. Goodbye.",
}


def prompt_seconds(audiotool, workdir, prompt):
    """How long a prompt lasts: a text, or a tuple of texts and Recorded pieces."""
    pieces = (prompt,) if isinstance(prompt, str) else prompt
    total = 0.0
    for piece in pieces:
        wpm = VISITOR_WPM if isinstance(piece, Recorded) else WPM
        total += seconds(audiotool, workdir, piece, wpm=wpm)
    return total


def timeline(audiotool, workdir, turns, name):
    """[(prompt, answer)] -> (wav, seconds): each answer placed after its prompt."""
    t, answers = 0.0, []
    for prompt, answer in turns:
        t += prompt_seconds(audiotool, workdir, prompt) + ANSWER_AFTER_S
        answers.append((t, answer))
        t += seconds(audiotool, workdir, answer, wpm=VISITOR_WPM) + TURN_S
    sub = workdir / name
    sub.mkdir(exist_ok=True)
    return timeline_wav(audiotool, sub, answers, total_seconds=t + 90)


def run_gate(server_factory, workdir, audiotool, resident_turns, *, answers=True):
    """Runs one visit; returns (visitor's record, what the visitor heard, what the resident
    heard)."""
    resident_wav = timeline(audiotool, workdir, resident_turns, "resident-mic")
    resident = callee(workdir, resident_wav, user="2302", name="resident",
                      answermode="auto" if answers else "manual", max_seconds=120)
    kam = Kamailio(workdir, routes={"2302": resident.uri}).start()
    visitor = None
    try:
        cfg = write_config(workdir, trunks=[{"name": "pbx", "host": "127.0.0.1",
                                             "port": kam.port, "default": True}])
        srv = server_factory(extra_args=["--config", str(cfg)])
        visitor_wav = timeline(audiotool, workdir, VISITOR_PROMPTS, "visitor-mic")
        visitor = Baresip(workdir, visitor_wav, name="visitor", user="visitor",
                          max_seconds=120).start()
        assert visitor.dial(f"sip:gate@{srv.sip_target}") is not None, visitor.log()
        call_id = current_call(srv)
        deadline = time.monotonic() + 110
        rec = record(srv, call_id)
        while time.monotonic() < deadline and not rec.get("ended_at"):
            time.sleep(0.5)
            rec = record(srv, call_id)
        time.sleep(1.0)
    finally:
        if visitor:
            visitor.stop()
        resident.stop()
        kam.stop()
    assert rec.get("ended_at"), f"the visit did not end: {[(e['kind'], e['detail']) for e in rec['events']]}"
    return rec, visitor.received_wav(), resident.received_wav()


def heard(audiotool, workdir, wav, outcome):
    """True when the visitor's recording holds the outcome phrase as the server says it."""
    needle = server_speech_wav(OUTCOME_PHRASES[outcome], workdir / f"{outcome}.wav", audiotool,
                               wpm=WPM)
    # The goodbye ends the call: the recording stops with its last packet, and the needle's
    # own trailing silence would not fit; a second of silence after it does.
    samples, rate = read_wav(wav)
    padded = write_wav(workdir / "heard-padded.wav", list(samples) + [0] * rate, rate)
    found = find_phrase(needle, padded, audiotool)
    return found["score"] >= 0.6, found


def resident_heard_name(audiotool, workdir, resident_wav):
    """(found, details): the resident's recording holds the visitor's name as the visitor's
    phone sent it (the clip timeline() wrote for that answer). The server plays back its
    recording of those very samples (G.711 both ways), so they are matched sample by sample:
    a separate rendering of the name, or the server's own synthesis, scores far lower."""
    index = [answer for _, answer in VISITOR_PROMPTS].index(VISITOR_NAME)
    said = workdir / "visitor-mic" / f"answer{index}.wav"
    found = find_phrase(said, resident_wav, audiotool, mode="waveform")
    return found["score"] >= 0.6, found
