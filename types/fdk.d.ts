// @fnproject/fdk ships no TypeScript types; this declares the part of its API we use.
declare module "@fnproject/fdk" {
  export interface FnHttpGateway {
    requestURL: string;
    method: string;
    headers: Record<string, string[]>;
    statusCode: number;
    setResponseHeader(key: string, ...values: string[]): void;
  }
  export interface FnContext {
    /** From the Fn-Call-Id header; null when the agent sent none. */
    readonly callID: string | null;
    /** From the Fn-Deadline header; null when absent (then Invalid Date is possible if malformed). */
    readonly deadline: Date | null;
    /** A copy of process.env (function and application config arrive as env vars). */
    readonly config: Record<string, string | undefined>;
    readonly headers: Record<string, string[]>;
    readonly contentType: string | null;
    readonly fnID: string | undefined;
    readonly appID: string | undefined;
    readonly httpGateway: FnHttpGateway;
    responseContentType: string;
    setResponseHeader(key: string, ...values: string[]): void;
    getHeader(key: string): string | null;
  }
  export type InputMode = "json" | "string" | "buffer";
  export function handle(
    fn: (input: unknown, ctx: FnContext) => unknown,
    options?: { inputMode?: InputMode },
  ): () => void;
}
