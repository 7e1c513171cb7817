/**
 * One JSON object per line: level, msg, time, call_id plus event fields (instance_id,
 * opc_request_id, ...). info/debug go to stdout, warn/error to stderr. Field names that look like
 * secrets are redacted as a safety net; callers never pass keys, tokens or RPSTs in the first place.
 */
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
