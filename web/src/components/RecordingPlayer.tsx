import { useEffect, useState } from "react";
import type { Recording } from "../api/types";
import { useApi } from "../hooks/apiContext";

/** Loads the call's recording with the token (an <audio> src cannot carry it) and plays it. */
export function RecordingPlayer({ recording }: { recording: Recording }) {
  const { api } = useApi();
  const [url, setUrl] = useState<string>();
  const [error, setError] = useState("");

  useEffect(() => () => {
    if (url) URL.revokeObjectURL(url);
  }, [url]);

  const load = async () => {
    setError("");
    try {
      setUrl(await api.recordingUrl(recording.url));
    } catch (e) {
      setError((e as Error).message);
    }
  };

  return (
    <div className="recording">
      {url ? (
        <audio controls src={url} autoPlay />
      ) : (
        <button onClick={load}>
          Load recording ({recording.format}, {Math.round(recording.bytes / 1024)} KiB)
        </button>
      )}
      {error && <div className="notice error">{error}</div>}
    </div>
  );
}
