import { describe, expect, it } from "vitest";
import { decideOverride, readOverrideConfig } from "../../src/override.js";
import { hostileOverrides } from "./hostile-overrides.js";

const NOW = Date.parse("2026-12-01T18:00:00Z");

describe("hostile override tags never crash and never let an action through", () => {
  it.each(hostileOverrides().map((c) => [c.name, c] as const))("%s", (_name, c) => {
    for (const action of ["start", "stop"] as const) {
      const decision = decideOverride(
        { freeformTags: c.freeformTags, definedTags: {} },
        action,
        NOW,
        readOverrideConfig({}),
      );
      expect(decision).toMatchObject({ kind: "invalid", code: "InvalidOverride" });
      if (decision.kind === "invalid") {
        expect(decision.message.length).toBeLessThan(700);
        expect(decision.message).not.toMatch(/[\p{Cc}\u200b\u202e]/u);
      }
    }
  });
});
