/**
 * One JSON object per line: level, msg, time, call_id plus event fields (instance_id,
 * opc_request_id, ...). info/debug go to stdout, warn/error to stderr. Field names that look like
 * secrets are redacted as a safety net; callers never pass keys, tokens or RPSTs in the first place.
 */
import { format } from "node:util";
import type { LogLevel } from "./config.js";

export type LogFields = Record<string, string | number | boolean | null | undefined | string[]>;

const RANK: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };
const SECRET_FIELD =
  /(private|secret|password|passphrase|token|rpst|pem|authorization|signature|credential)/i;

export interface Logger {
  debug(msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
  child(fields: LogFields): Logger;
}

export type LineSink = (stream: "stdout" | "stderr", line: string) => void;

const processSink: LineSink = (stream, line) => {
  (stream === "stdout" ? process.stdout : process.stderr).write(`${line}\n`);
};

export function createLogger(options: { level?: LogLevel; base?: LogFields; sink?: LineSink } = {}): Logger {
  const threshold = RANK[options.level ?? "info"];
  const base = options.base ?? {};
  const sink = options.sink ?? processSink;
  const write = (level: LogLevel, msg: string, fields?: LogFields): void => {
    if (RANK[level] < threshold) return;
    const record: Record<string, unknown> = { time: new Date().toISOString(), level, msg };
    for (const source of [base, fields]) {
      if (!source) continue;
      for (const [key, value] of Object.entries(source)) {
        if (value === undefined) continue;
        record[key] = SECRET_FIELD.test(key) ? "[redacted]" : value;
      }
    }
    sink(level === "warn" || level === "error" ? "stderr" : "stdout", JSON.stringify(record));
  };
  return {
    debug: (msg, fields) => write("debug", msg, fields),
    info: (msg, fields) => write("info", msg, fields),
    warn: (msg, fields) => write("warn", msg, fields),
    error: (msg, fields) => write("error", msg, fields),
    child: (fields) => createLogger({ level: options.level ?? "info", base: { ...base, ...fields }, sink }),
  };
}

/** A logger that drops everything (tests, dry helpers). */
export const silentLogger: Logger = createLogger({ sink: () => {} });

/** Removes PEM blocks, JWT-looking tokens and long base64 runs from a message. */
export function scrubSecrets(text: string): string {
  return text
    .replace(/-----BEGIN[^-]*-----[\s\S]*?(-----END[^-]*-----|$)/g, "[pem]")
    .replace(/eyJ[\w-]+\.[\w-]+(\.[\w-]*)?/g, "[token]")
    .replace(/[A-Za-z0-9+/=_-]{80,}/g, "[redacted]")
    .slice(0, 400);
}

let consoleCaptured = false;

/**
 * The OCI SDK writes to the console on its own (e.g. "Retrying the request..." while fetching an
 * instance-principal token). Those lines become JSON log lines too (scrubbed of secrets), so the
 * function's output stays one JSON object per line. The Fn log-frame marker the FDK prints
 * (FN_LOGFRAME_NAME) is left as it is.
 */
export function captureConsole(logger: Logger, env: Record<string, string | undefined> = process.env): void {
  if (consoleCaptured) return;
  consoleCaptured = true;
  const frame = env.FN_LOGFRAME_NAME ? `\n${env.FN_LOGFRAME_NAME}=` : undefined;
  const original = {
    log: console.log,
    info: console.info,
    warn: console.warn,
    error: console.error,
    debug: console.debug,
  };
  const route =
    (level: LogLevel, passThrough: (...args: unknown[]) => void) =>
    (...args: unknown[]): void => {
      if (frame && typeof args[0] === "string" && args[0].startsWith(frame)) {
        passThrough(...args);
        return;
      }
      const text = scrubSecrets(format(...args).trim());
      if (text === "") return;
      logger[level]("console output", { source: "console", text });
    };
  console.log = route("info", original.log);
  console.info = route("info", original.info);
  console.debug = route("debug", original.debug);
  console.warn = route("warn", original.warn);
  console.error = route("error", original.error);
}
