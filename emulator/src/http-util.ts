import { randomBytes } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import { OciHttpError } from "./errors.js";

/** Request bodies above this size get a 400 and are not read further. */
export const MAX_BODY_BYTES = 1024 * 1024;

export function newRequestId(): string {
  return randomBytes(16).toString("hex").toUpperCase();
}

export async function readBody(req: IncomingMessage): Promise<Buffer> {
  const declared = Number(req.headers["content-length"] ?? 0);
  if (declared > MAX_BODY_BYTES) throw tooLarge();
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const buf = chunk as Buffer;
    size += buf.length;
    if (size > MAX_BODY_BYTES) throw tooLarge();
    chunks.push(buf);
  }
  return Buffer.concat(chunks);
}

function tooLarge(): OciHttpError {
  return new OciHttpError(400, "InvalidParameter", `The request body exceeds ${MAX_BODY_BYTES} bytes.`);
}

export function parseJsonObject(body: Buffer, what = "request body"): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(body.toString("utf8"));
  } catch {
    throw new OciHttpError(400, "InvalidParameter", `The ${what} is not valid JSON.`);
  }
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    throw new OciHttpError(400, "InvalidParameter", `The ${what} must be a JSON object.`);
  }
  return value as Record<string, unknown>;
}

export function send(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string>,
  contentType = "application/json",
): void {
  if (res.headersSent || res.destroyed) return;
  const payload =
    body === undefined
      ? Buffer.alloc(0)
      : Buffer.isBuffer(body)
        ? body
        : Buffer.from(typeof body === "string" ? body : JSON.stringify(body));
  res.writeHead(status, {
    ...headers,
    "content-type": contentType,
    "content-length": String(payload.length),
  });
  res.end(payload);
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
