import { ApiError } from "../api/errors";

/** A failed request, said plainly; a route the server lacks is a notice, not a crash. */
export function ErrorBox({ error }: { error: Error | undefined | null }) {
  if (!error) return null;
  const missing = error instanceof ApiError && error.missingRoute;
  return (
    <div className={missing ? "notice unavailable" : "notice error"} role="alert">
      {error.message}
    </div>
  );
}
