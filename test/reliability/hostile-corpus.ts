/**
 * Malformed and hostile request bodies. Every one of them must be refused with InvalidParameter by
 * both functions (an "action" is refused by start-compute and, with these values, by stop-compute),
 * without a single call to OCI.
 */

const ID = "ocid1.instance.oc1.iad.aaaahostile1";
const ID2 = "ocid1.instance.oc1.iad.aaaahostile2";
const COMP = "ocid1.compartment.oc1..hostile";

export interface HostileCase {
  name: string;
  body: string | Buffer;
}

const j = (value: unknown): string => JSON.stringify(value);

export function hostileCorpus(): HostileCase[] {
  const cases: HostileCase[] = [
    // Not JSON at all.
    { name: "empty", body: "" },
    { name: "whitespace only", body: " \n\t\r " },
    { name: "form encoding", body: `instance_id=${ID}` },
    { name: "XML", body: `<request><instance_id>${ID}</instance_id></request>` },
    { name: "JS object literal", body: `{instance_id: '${ID}'}` },
    { name: "single quotes", body: `{'instance_id': '${ID}'}` },
    { name: "trailing comma", body: `{"instance_id": "${ID}",}` },
    { name: "comment", body: `{"instance_id": "${ID}" /* start */}` },
    { name: "two documents", body: `{"instance_id": "${ID}"}{"instance_id": "${ID2}"}` },
    { name: "unterminated", body: `{"instance_id": "${ID}"` },
    { name: "NaN", body: "NaN" },
    { name: "undefined", body: "undefined" },
    { name: "byte order mark before JSON", body: `\uFEFF${j({ instance_id: ID })}` },
    { name: "invalid UTF-8 bytes", body: Buffer.from([0xff, 0xfe, 0x7b, 0x22, 0xc3, 0x28, 0x7d]) },
    { name: "NUL bytes", body: Buffer.from([0x00, 0x00, 0x7b, 0x7d, 0x00]) },
    { name: "unclosed nesting (200k)", body: "[".repeat(200_000) },
    // JSON, but not an object.
    { name: "null", body: "null" },
    { name: "number", body: "42" },
    { name: "true", body: "true" },
    { name: "bare OCID string", body: j(ID) },
    { name: "array of requests", body: j([{ instance_id: ID }]) },
    { name: "empty object", body: "{}" },
    // Deep nesting (parseable, well under the body limit).
    {
      name: "deeply nested arrays as instance_id (60k)",
      body: `{"instance_id":${"[".repeat(60_000)}${"]".repeat(60_000)}}`,
    },
    {
      name: "deeply nested objects as defined_tags (30k)",
      body: `{"compartment_id":"${COMP}","defined_tags":${'{"a":'.repeat(30_000)}1${"}".repeat(30_000)}}`,
    },
    // Huge arrays and strings.
    { name: "1001 ids", body: j({ instance_ids: Array.from({ length: 1001 }, (_, i) => `${ID}x${i}`) }) },
    { name: "50k numbers as ids", body: j({ instance_ids: Array.from({ length: 50_000 }, (_, i) => i) }) },
    { name: "2 MiB string", body: j({ instance_id: "a".repeat(2 * 1024 * 1024) }) },
    {
      name: "5 MiB of spaces around a valid body",
      body: `${" ".repeat(5 * 1024 * 1024)}${j({ instance_id: ID })}`,
    },
    {
      name: "100k keys",
      body: `{${Array.from({ length: 100_000 }, (_, i) => `"k${i}":0`).join(",")}}`,
    },
    {
      name: "40 unknown keys",
      body: j(Object.fromEntries(Array.from({ length: 40 }, (_, i) => [`k${i}`, i]))),
    },
    {
      name: "65 freeform tags",
      body: j({
        compartment_id: COMP,
        freeform_tags: Object.fromEntries(Array.from({ length: 65 }, (_, i) => [`t${i}`, "v"])),
      }),
    },
    {
      name: "tag value of 10k chars",
      body: j({ compartment_id: COMP, freeform_tags: { env: "x".repeat(10_000) } }),
    },
    {
      name: "tag key of 10k chars",
      body: j({ compartment_id: COMP, freeform_tags: { ["k".repeat(10_000)]: "v" } }),
    },
    { name: "key of 100k chars", body: j({ instance_id: ID, ["z".repeat(100_000)]: 1 }) },
    { name: "OCID of 300 chars", body: j({ instance_id: `ocid1.instance.oc1.iad.${"a".repeat(280)}` }) },
    // Wrong types, numbers where strings belong, nulls.
    { name: "instance_id number", body: j({ instance_id: 12345 }) },
    { name: "instance_id huge number", body: '{"instance_id": 1e400}' },
    { name: "instance_id boolean", body: j({ instance_id: true }) },
    { name: "instance_id object", body: j({ instance_id: { id: ID } }) },
    { name: "instance_id list", body: j({ instance_id: [ID] }) },
    { name: "instance_id null", body: j({ instance_id: null }) },
    { name: "instance_ids string", body: j({ instance_ids: ID }) },
    { name: "instance_ids array-like object", body: j({ instance_ids: { 0: ID, length: 1 } }) },
    { name: "instance_ids with null", body: j({ instance_ids: [ID, null] }) },
    { name: "instance_ids nested list", body: j({ instance_ids: [[ID]] }) },
    { name: "instance_ids duplicate", body: j({ instance_ids: [ID, ID2, ID] }) },
    { name: "instance_ids empty", body: j({ instance_ids: [] }) },
    { name: "compartment_id number", body: j({ compartment_id: 7 }) },
    { name: "compartment_id null", body: j({ compartment_id: null }) },
    { name: "wait as string", body: j({ instance_id: ID, wait: "true" }) },
    { name: "wait as 1", body: j({ instance_id: ID, wait: 1 }) },
    { name: "dry_run null", body: j({ instance_id: ID, dry_run: null }) },
    { name: "timeout as string", body: j({ instance_id: ID, timeout_seconds: "60" }) },
    { name: "timeout fractional", body: j({ instance_id: ID, timeout_seconds: 60.5 }) },
    { name: "timeout zero", body: j({ instance_id: ID, timeout_seconds: 0 }) },
    { name: "timeout over an hour", body: j({ instance_id: ID, timeout_seconds: 3601 }) },
    {
      name: "timeout infinite",
      body: '{"instance_id": "ocid1.instance.oc1.iad.aaaahostile1", "timeout_seconds": 1e999}',
    },
    {
      name: "freeform_tags with a number value",
      body: j({ compartment_id: COMP, freeform_tags: { env: 1 } }),
    },
    { name: "defined_tags flat", body: j({ compartment_id: COMP, defined_tags: { ns: "flat" } }) },
    { name: "tags without a compartment", body: j({ instance_id: ID, freeform_tags: { env: "dev" } }) },
    // Target forms.
    { name: "both targets", body: j({ instance_id: ID, instance_ids: [ID2] }) },
    { name: "all three targets", body: j({ instance_id: ID, instance_ids: [ID2], compartment_id: COMP }) },
    { name: "camelCase key", body: j({ instanceId: ID }) },
    { name: "upper-case key", body: j({ INSTANCE_ID: ID }) },
    // Odd unicode.
    { name: "zero-width space in OCID", body: j({ instance_id: `${ID}\u200b` }) },
    { name: "full-width OCID", body: j({ instance_id: "ｏｃｉｄ１.instance.oc1.iad.aaaa" }) },
    { name: "right-to-left override", body: j({ instance_id: `\u202e${ID}` }) },
    { name: "lone surrogate", body: '{"instance_id": "ocid1.instance.oc1.iad.aaaa\\ud800"}' },
    { name: "emoji key", body: j({ "🖥️": ID }) },
    { name: "NUL inside OCID", body: j({ instance_id: `ocid1.instance.oc1.iad.aa\u0000aa` }) },
    { name: "Cyrillic look-alike", body: j({ instance_id: "ocid1.instаnce.oc1.iad.aaaa" }) },
    { name: "upper-case OCID", body: j({ instance_id: ID.toUpperCase() }) },
    { name: "padded OCID", body: j({ instance_id: ` ${ID} ` }) },
    // OCIDs of other resource types.
    { name: "VCN as instance", body: j({ instance_id: "ocid1.vcn.oc1.iad.aaaa" }) },
    { name: "volume as instance", body: j({ instance_id: "ocid1.volume.oc1.iad.aaaa" }) },
    { name: "compartment as instance", body: j({ instance_id: COMP }) },
    { name: "tenancy in instance_ids", body: j({ instance_ids: [ID, "ocid1.tenancy.oc1..aaaa"] }) },
    { name: "instance as compartment", body: j({ compartment_id: ID }) },
    { name: "function as compartment", body: j({ compartment_id: "ocid1.fnfunc.oc1.iad.aaaa" }) },
    { name: "ocid2 prefix", body: j({ instance_id: "ocid2.instance.oc1.iad.aaaa" }) },
    { name: "too many dots", body: j({ instance_id: "ocid1.instance.oc1.iad.x.y.aaaa" }) },
    // Prototype pollution attempts.
    { name: "__proto__ holding a target", body: `{"__proto__": {"instance_id": "${ID}"}}` },
    { name: "__proto__ next to a target", body: `{"instance_id": "${ID}", "__proto__": {"dry_run": false}}` },
    { name: "constructor.prototype", body: `{"constructor": {"prototype": {"instance_id": "${ID}"}}}` },
    { name: "constructor next to a target", body: `{"instance_id": "${ID}", "constructor": "x"}` },
    {
      name: "__proto__ in tags with a number",
      body: `{"compartment_id": "${COMP}", "freeform_tags": {"__proto__": 1}}`,
    },
    { name: "toString and hasOwnProperty", body: `{"toString": 1, "hasOwnProperty": "${ID}"}` },
    // stop-compute's action.
    { name: "action lower case", body: j({ instance_id: ID, action: "stop" }) },
    { name: "action RESET", body: j({ instance_id: ID, action: "RESET" }) },
    { name: "action number", body: j({ instance_id: ID, action: 1 }) },
    { name: "action null", body: j({ instance_id: ID, action: null }) },
    { name: "action list", body: j({ instance_id: ID, action: ["STOP"] }) },
  ];
  return cases;
}
