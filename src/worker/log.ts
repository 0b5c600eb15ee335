// The Worker's structured logs: one JSON line per event, `{"level", "event", ...fields}`, so that
// Workers Logs (observability in wrangler.jsonc) indexes every field and an operator can filter
// and alert on `event`. Event names are stable snake_case constants, listed in the README. A
// field is a number, a block, an address, a count or a short text; an error becomes its short
// message with every URL cut out, because an RPC URL can carry an API key. Never log a secret,
// a key, a signature or a session token.

/** Every event the Worker logs, as a stable snake_case string. */
export const LogEvents = {
  /** A request failed with an error no handler expected (answered 500 internal_error). */
  unhandledError: "unhandled_error",
  /** The cron's sync could not start: the configuration is invalid. */
  syncConfigInvalid: "sync_config_invalid",
  /** The cron's sync could not start: D1 did not answer. */
  syncDbUnavailable: "sync_db_unavailable",
  /** A sync run failed part-way (node error, timeout, lost lease); the next run resumes from the cursor. */
  syncFailed: "sync_failed",
  /** The sync found its cursor's block gone and rewound to the common ancestor. */
  syncReorg: "sync_reorg",
  /** The receiver's transaction sender needs a human (out of gas, a transaction stuck or refused). */
  receiverAlert: "receiver_alert",
  /** The receiver's transactions could not be copied to D1 (the admin view lags; nothing is lost). */
  receiverTxsWriteFailed: "receiver_txs_write_failed",
  /** The projection queue held a message that is not a channel projection; it was acknowledged and dropped. */
  projectionMessageDropped: "projection_message_dropped",
  /** A request could not be counted, or the counts could not be written or read (the traffic chart or the Overview's paid requests lag; no payment is affected). */
  trafficCountFailed: "traffic_count_failed",
} as const;

/** One of the events the Worker logs. */
export type LogEvent = (typeof LogEvents)[keyof typeof LogEvents];

type Level = "info" | "warn" | "error";
type Field = string | number | boolean | null | undefined;

const URL_PATTERN = /\b[a-z][a-z0-9+.-]*:\/\/[^\s"'<>]+/gi;

/** `text` with every URL replaced by `<url>`. */
export function redactUrls(text: string): string {
  return text.replace(URL_PATTERN, "<url>");
}

/** An error as one short line, URLs cut out: viem's short message and details when it has them
 *  (its full message lists the request's URL and body), else the message. */
export function errorText(err: unknown): string {
  if (err instanceof Error) {
    const { shortMessage, details } = err as { shortMessage?: unknown; details?: unknown };
    const text =
      typeof shortMessage === "string"
        ? typeof details === "string" && details !== shortMessage
          ? `${shortMessage} ${details}`
          : shortMessage
        : err.message;
    return redactUrls(`${err.name}: ${text}`);
  }
  return redactUrls(String(err));
}

function write(level: Level, event: LogEvent, fields: Record<string, Field>): void {
  const entry: Record<string, Field> = { level, event };
  for (const [key, value] of Object.entries(fields)) {
    if (value !== undefined && key !== "level" && key !== "event")
      entry[key] = typeof value === "string" ? redactUrls(value) : value;
  }
  const line = JSON.stringify(entry);
  if (level === "error") console.error(line);
  else if (level === "warn") console.warn(line);
  else console.log(line);
}

/**
 * Writes one JSON log line: `{"level", "event", ...fields}` (string fields with URLs cut out).
 *
 * @example
 * ```ts
 * log.error(LogEvents.syncFailed, { error: errorText(err), headBlock: 1234 });
 * ```
 */
export const log = {
  info: (event: LogEvent, fields: Record<string, Field> = {}) => write("info", event, fields),
  warn: (event: LogEvent, fields: Record<string, Field> = {}) => write("warn", event, fields),
  error: (event: LogEvent, fields: Record<string, Field> = {}) => write("error", event, fields),
};
