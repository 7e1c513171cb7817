/**
 * scripts/build.ts works or fails loudly: its rewrites match the installed SDK exactly as expected,
 * and an SDK whose shape changed (simulated by editing the real sources) fails the build with a
 * message naming the rule, its count and what it expected, instead of a bundle that silently grows
 * or breaks on one path at run time.
 */
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { build } from "esbuild";
import { describe, expect, it } from "vitest";
import {
  checkBundleInputs,
  checkOciCommonIndex,
  computeClientOnly,
  lazyModelIndex,
  slimOci,
  trimComputeClient,
} from "../../scripts/build.js";

const require = createRequire(import.meta.url);
const CLIENT = require.resolve("oci-core/lib/client.js");
const MODEL_INDEX = join(dirname(CLIENT), "model/index.js");
const COMMON_INDEX = require.resolve("oci-common");
const client = await readFile(CLIENT, "utf8");
const commonIndex = await readFile(COMMON_INDEX, "utf8");

describe("the installed SDK matches every rule", () => {
  it("client.js: ComputeClient alone, with only the whitelisted members", () => {
    const slim = trimComputeClient(computeClientOnly(client));
    expect(slim).toContain("class ComputeClient");
    expect(slim).not.toContain("class VirtualNetworkClient");
    expect(slim).toMatch(/\binstanceAction\(/);
    expect(slim).not.toMatch(/\blaunchInstance\(/);
    expect(slim.length).toBeLessThan(client.length / 10);
  });

  it("the model index and oci-common's index", async () => {
    expect(await lazyModelIndex(MODEL_INDEX)).toContain('lazy("Instance",');
    expect(() => checkOciCommonIndex(commonIndex)).not.toThrow();
  });
});

describe("an SDK of another shape fails the build naming the rule", () => {
  it.each([
    [
      "a second opossum require",
      client.replace(
        'const Breaker = require("opossum");',
        'const Breaker = require("opossum");\nconst Breaker = require("opossum");',
      ),
      'rule "client.js: the opossum require (no circuit breaker for Compute)" matched 2 time(s), expected exactly 1',
    ],
    [
      "a fourth waiter require",
      client.replace(
        'const virtualnetwork_waiter_1 = require("./virtualnetwork-waiter");',
        'const virtualnetwork_waiter_1 = require("./virtualnetwork-waiter");\nconst blockstorage_waiter_1 = require("./x");',
      ),
      'rule "client.js: the other three clients\' waiter requires" matched 4 time(s), expected exactly 3',
    ],
    [
      "a missing section marker",
      client.replace("var VirtualNetworkApiKeys;", "var VirtualNetApiKeys;"),
      'rule "marker var VirtualNetworkApiKeys;" matched 0 time(s), expected exactly 1',
    ],
  ])("client.js with %s", (_what, source, message) => {
    expect(() => trimComputeClient(computeClientOnly(source))).toThrow(message);
  });

  it("a whitelisted ComputeClient method that was renamed", () => {
    const renamed = client.replace(
      /^ {4}listInstances\(listInstancesRequest\) \{$/m,
      "    listInstancez(listInstancesRequest) {",
    );
    expect(renamed).not.toBe(client);
    expect(() => trimComputeClient(computeClientOnly(renamed))).toThrow(
      'rule "ComputeClient member whitelist: listInstances" matched 0 time(s), expected exactly 1',
    );
  });

  it("an oci-common export or module that moved", () => {
    expect(() => checkOciCommonIndex(commonIndex.replace(" exports.Region = ", " "))).toThrow(
      'rule "oci-common export Region" matched 0 time(s), expected exactly 1',
    );
    expect(() =>
      checkOciCommonIndex(commonIndex.replace('require("./lib/signer")', 'require("./lib/signer2")')),
    ).toThrow('rule "oci-common module ./lib/signer" matched 0 time(s), expected exactly 1');
  });

  it("a model index with other models", async () => {
    const dir = await mkdtemp(join(tmpdir(), "model-index-"));
    try {
      const index = join(dir, "index.js");
      await writeFile(index, 'const instance = __importStar(require("./instance"));\nrequire("./stray");\n');
      await expect(lazyModelIndex(index)).rejects.toThrow(
        'rule "model index: require lines" matched 2 time(s), expected exactly 1',
      );
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("a bundle that still contains a replaced package", () => {
    expect(() => checkBundleInputs(["src/auth.ts", "node_modules/sshpk/lib/index.js"], "func.js")).toThrow(
      'rule "func.js contains no module of sshpk" matched 1 time(s), expected exactly 0',
    );
  });

  it("a build in which a rewrite never fired", async () => {
    await expect(
      build({
        stdin: { contents: "console.log(1)", loader: "js" },
        bundle: true,
        write: false,
        platform: "node",
        logLevel: "silent",
        plugins: [slimOci()],
      }),
    ).rejects.toThrow(
      'rule "onLoad oci-core compute-waiter.js (stubbed)" matched 0 time(s), expected exactly 1',
    );
  });
});
