/**
 * Hostile override tags: values and keys a careless or malicious person can put on an instance.
 * None may crash a function, and none may let an action through: each is an InvalidOverride (no
 * power action). Shared so the batch-level reliability suite can put the same tags on emulator
 * instances once the override is wired into the functions.
 */
export interface HostileOverride {
  name: string;
  freeformTags: Record<string, string>;
}

const KEY = "power-override";

export function hostileOverrides(): HostileOverride[] {
  const value = (name: string, v: string): HostileOverride => ({
    name,
    freeformTags: { [KEY]: v, Schedule: "x" },
  });
  const key = (name: string, k: string): HostileOverride => ({
    name,
    freeformTags: { [k]: "skip", Schedule: "x" },
  });
  return [
    value("empty", ""),
    value("spaces only", "   \t "),
    value("huge (1 MB)", "skip".repeat(262_144)),
    value("just over OCI's 256", `keep-running-until=2026-12-01T22:00:00Z${" ".repeat(230)}`),
    value("NUL inside", "sk\u0000ip"),
    value("control characters", "\u001b[31mskip\u001b[0m"),
    value("right-to-left override", "\u202eskip"),
    value("zero-width space", "sk\u200bip"),
    value("Cyrillic look-alike keyword", "ѕkip"),
    value("full-width keyword", "ｓｋｉｐ"),
    value("two overrides", "skip;keep-running-until=2026-12-01T22:00:00Z"),
    value("newline-separated", "keep-running-until=2026-12-01T22:00:00Z\nskip"),
    value("no offset", "keep-running-until=2026-12-01T22:00:00"),
    value("impossible date", "keep-running-until=2026-02-30T22:00:00Z"),
    value("far future", "keep-running-until=9999-12-31T23:59:59Z"),
    value("epoch number", "keep-running-until=1796162400"),
    value("JSON", '{"skip": true}'),
    value("shell", "$(reboot)"),
    value("lone surrogate", "skip\ud800"),
    key("other case", "Power-Override"),
    key("trailing space", "power-override "),
    key("underscore", "power_override"),
    key("zero-width in key", "power\u200b-override"),
    key("Cyrillic o in key", "pоwer-оverride"),
    key("full-width key", "ｐｏｗｅｒ－ｏｖｅｒｒｉｄｅ"),
    key("en dash in key", "power–override"),
  ];
}
