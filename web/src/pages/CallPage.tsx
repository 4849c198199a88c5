import { useEffect } from "react";
import type { CallDetail } from "../api/types";
import { CallActions } from "../components/CallActions";
import { CallSummaryCard } from "../components/CallSummaryCard";
import { ErrorBox } from "../components/ErrorBox";
import { EventList } from "../components/EventList";
import { RecordingPlayer } from "../components/RecordingPlayer";
import { Transcript } from "../components/Transcript";
import { useApi } from "../hooks/apiContext";
import { useAsync } from "../hooks/useAsync";

const REFRESH_MS = 2000;

/** One call: its legs, events, transcript with latencies, and the recording if there is one. */
export function CallPage({ id }: { id: string }) {
  const { api } = useApi();
  const { data: call, error, reload } = useAsync(() => api.call(id), [api, id]);

  // A call still up changes: read it again until it has ended.
  const running = !call || !call.ended_at;
  useEffect(() => {
    if (!running) return;
    const timer = setInterval(reload, REFRESH_MS);
    return () => clearInterval(timer);
  }, [running, reload]);

  return (
    <section className="call-page">
      <h2>
        Call <code>{id}</code>
      </h2>
      <ErrorBox error={error} />
      {call && <CallBody call={call} />}
    </section>
  );
}

function CallBody({ call }: { call: CallDetail }) {
  return (
    <>
      {!call.ended_at && <CallActions callId={call.id} />}
      <CallSummaryCard call={call} />
      <h3>Recording</h3>
      {call.recording ? (
        <RecordingPlayer recording={call.recording} />
      ) : (
        <p className="empty">
          {call.recording === undefined ? "This server does not report recordings." : "No recording."}
        </p>
      )}
      <h3>Transcript and latency</h3>
      <Transcript turns={call.turns ?? []} />
      <h3>Events</h3>
      <EventList events={call.events ?? []} />
      {(call.legs ?? []).length > 0 && (
        <>
          <h3>Other legs</h3>
          {call.legs.map((leg) => (
            <details key={leg.id} className="leg" open>
              <summary>
                Leg <code>{leg.id}</code> {leg.direction} {leg.from} → {leg.to}
              </summary>
              <CallSummaryCard call={leg} />
              <EventList events={leg.events ?? []} />
            </details>
          ))}
        </>
      )}
    </>
  );
}
