/**
 * The SDK probe of test/build/differential.test.ts and test/build/endpoints.test.ts. One source, run
 * two ways: as TypeScript over the full oci-core/oci-common from node_modules (`node --import tsx`),
 * and as dist/sdk-probe.cjs, which `npm run build` bundles with exactly the functions' slimming
 * (trimmed ComputeClient, lazy models, slim oci-common index, the sshpk/http-signature/jssha shims).
 * Auth is chosen by src/auth.ts from the environment, as in the functions. Prints one JSON line.
 *
 *   sdk-probe ops        runs PROBE_PLAN (JSON, ProbeStep[]) against PROBE_ENDPOINT with the SDK's own
 *                        transport; prints {results: [...]} (opc-request-ids dropped: they are random)
 *   sdk-probe endpoints  for each region in PROBE_REGIONS (comma-separated) builds the functions' client
 *                        (createComputeClient, no OCI_COMPUTE_ENDPOINT) as a resource principal in that
 *                        region and asks it for PROBE_INSTANCE_ID through a transport that only records
 *                        the URL; prints {endpoints: {region: url}}. Sends nothing.
 */
import { type HttpClient, type HttpRequest, OciError } from "oci-common";
import { ComputeClient } from "oci-core/lib/client.js";
import { createAuthProvider } from "../../src/auth.js";
import { createComputeClient } from "../../src/oci-compute.js";

export type ProbeStep =
  | { op: "get"; instanceId: string }
  | { op: "list"; compartmentId: string; limit: number; pages: number }
  | { op: "action"; instanceId: string; action: string; retryToken: string };

export interface ProbeResult {
  step: number;
  op: ProbeStep["op"];
  value?: unknown;
  error?: { isOciError: boolean; statusCode: unknown; serviceCode: unknown; message: unknown };
}

function required(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`sdk-probe: ${name} is not set`);
  return value;
}

/** The SDK response without what is random per request. */
function withoutRequestId(response: object): unknown {
  const { opcRequestId: _dropped, ...rest } = response as { opcRequestId?: unknown };
  return rest;
}

async function runStep(client: ComputeClient, step: ProbeStep): Promise<unknown> {
  switch (step.op) {
    case "get":
      return withoutRequestId(await client.getInstance({ instanceId: step.instanceId }));
    case "list": {
      const pages: unknown[] = [];
      let page: string | undefined;
      for (let n = 0; n < step.pages; n++) {
        const res = await client.listInstances({
          compartmentId: step.compartmentId,
          limit: step.limit,
          ...(page ? { page } : {}),
        });
        pages.push(withoutRequestId(res));
        page = res.opcNextPage;
        if (!page) break;
      }
      return pages;
    }
    case "action":
      return withoutRequestId(
        await client.instanceAction({
          instanceId: step.instanceId,
          action: step.action as never,
          opcRetryToken: step.retryToken,
        }),
      );
  }
}

async function ops(): Promise<void> {
  const plan = JSON.parse(required("PROBE_PLAN")) as ProbeStep[];
  const { provider } = await createAuthProvider(process.env);
  const client = new ComputeClient({ authenticationDetailsProvider: provider });
  client.endpoint = required("PROBE_ENDPOINT");
  const results: ProbeResult[] = [];
  for (const [index, step] of plan.entries()) {
    try {
      results.push({ step: index, op: step.op, value: await runStep(client, step) });
    } catch (error) {
      const e = error as { statusCode?: unknown; serviceCode?: unknown; message?: unknown };
      results.push({
        step: index,
        op: step.op,
        error: {
          isOciError: error instanceof OciError,
          statusCode: e.statusCode,
          serviceCode: e.serviceCode,
          message: e.message,
        },
      });
    }
  }
  process.stdout.write(`${JSON.stringify({ results })}\n`);
}

/** A transport that sends nothing: it records the URL the SDK composed and stops the request. */
class CapturingHttpClient implements HttpClient {
  uri: string | undefined;

  async send(req: HttpRequest): Promise<Response> {
    this.uri = req.uri;
    throw new Error("sdk-probe: captured, not sent");
  }
}

async function endpoints(): Promise<void> {
  const out: Record<string, string | undefined> = {};
  for (const region of required("PROBE_REGIONS").split(",")) {
    // oci-common's resource principal reads process.env itself.
    process.env.OCI_RESOURCE_PRINCIPAL_REGION = region;
    const env = { ...process.env, OCI_AUTH: "resource_principal", OCI_COMPUTE_ENDPOINT: "" };
    const { provider } = await createAuthProvider(env);
    const transport = new CapturingHttpClient();
    const client = createComputeClient(provider, env, transport);
    await client.getInstance({ instanceId: required("PROBE_INSTANCE_ID") }).catch(() => undefined);
    out[region] = transport.uri;
  }
  process.stdout.write(`${JSON.stringify({ endpoints: out })}\n`);
}

const mode = process.argv[2];
const run = mode === "ops" ? ops : mode === "endpoints" ? endpoints : undefined;
if (!run) {
  process.stderr.write(`sdk-probe: mode must be ops or endpoints, got ${JSON.stringify(mode)}\n`);
  process.exit(2);
}
run().catch((error: unknown) => {
  process.stderr.write(`sdk-probe: ${error instanceof Error ? error.stack : String(error)}\n`);
  process.exit(1);
});
