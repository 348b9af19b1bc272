/**
 * Seeds whose create made them and then failed. The libvirt provider
 * (0.7.6) uploads a cloud-init ISO, records it, then reads it back; when
 * the read-back fails ("error while retrieving remote ISO: ... bytesCopied 0
 * != 378880 volume.size", seen in the benchmark at 2,000 schools), the engine
 * keeps the seed with its `initErrors` and retries it on the next `up` by an
 * update, even with nothing changed. The provider cannot update a seed
 * ("doesn't support update"), so every later `up` of the cell would stop
 * there, and the VM would never be made.
 *
 * Before an `up`, such seeds are read again (a refresh of those resources
 * only). The upload had finished before the read-back (the provider records
 * the seed only then), so a read that succeeds finds the seed whole, the
 * engine drops its errors, and the `up` goes on to the VM. Nothing on the
 * hypervisor changes. Other resources with errors are left to the engine's
 * own retry: an install whose create failed must run again, which a refresh
 * would prevent.
 */

export const SEED_TYPE = "libvirt:index/cloudInitDisk:CloudInitDisk";

export interface UnfinishedCreate {
  urn: string;
  errors: string[];
}

/** The seeds of a `pulumi stack export`'s resources that carry initialization errors. */
export function unfinishedSeeds(resources: ReadonlyArray<{ urn: string; type: string; initErrors?: unknown }>): UnfinishedCreate[] {
  return resources
    .filter((r) => r.type === SEED_TYPE && Array.isArray(r.initErrors) && r.initErrors.length > 0)
    .map((r) => ({ urn: r.urn, errors: (r.initErrors as unknown[]).map(String) }));
}

/**
 * An initialization error on one line, for a note: the engine keeps the
 * error of the last attempt, a failed retry's too ("updating <urn>: 1 error
 * occurred:\n\t* doesn't support update"), with URNs and line breaks.
 */
export function errorLine(error: string): string {
  const line = error.replace(/urn:pulumi:[^\s]*::([^\s:]+)/g, "$1").replace(/\s+/g, " ").trim();
  return line.length > 200 ? `${line.slice(0, 199)}…` : line;
}
