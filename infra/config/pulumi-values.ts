import { CONFIG_KEYS } from "./schema";

/** Keys whose value is a bare string in Pulumi config rather than JSON. */
const STRING_KEYS = new Set<string>(["domain", "defaultTier"]);

/**
 * Assembles the plain config object from raw Pulumi config values, e.g.
 * `configFromValues((key) => new pulumi.Config().get(key))`. Pulumi hands
 * structured values over as JSON text; a value that does not parse is passed
 * on as text so that validation reports it against its key.
 */
export function configFromValues(get: (key: string) => string | undefined): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const key of CONFIG_KEYS) {
    const raw = get(key);
    if (raw === undefined) continue;
    if (STRING_KEYS.has(key)) {
      out[key] = raw;
      continue;
    }
    try {
      out[key] = JSON.parse(raw);
    } catch {
      out[key] = raw;
    }
  }
  return out;
}
