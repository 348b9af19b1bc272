/**
 * Stacks this version cannot take over directly. The passwords moved from the
 * stack to the hosts in two steps. The first (commit a5fdc37) had every
 * install keep its site's passwords on the host and print the admin password,
 * and marked each site's own DNS record `retainOnDelete`. This version drops
 * the generated passwords and those records. On a stack the first step has
 * not converged that would lose what only the stack holds: a site whose
 * install never wrote its passwords file would have no admin password for the
 * mail-out (and the host would refuse its next install), and the delete of a
 * record not yet retained would remove the name its host's command keeps.
 */

import { idList } from "../../infra/inputs";

/** A school's own resources, as the first step's program named them. */
const SITE_DNS = /::(\d{8})-dns$/;
const SITE_INSTALL = /::(\d{8})-install$/;
const PRINTS_ADMIN_PASSWORD = "--print-admin-password";

interface StateResource {
  urn?: unknown;
  type?: unknown;
  delete?: unknown;
  retainOnDelete?: unknown;
  inputs?: { create?: unknown };
}

/**
 * The schools of a stack (its `pulumi stack export`, secrets not shown) that
 * the first step has not converged: a site DNS record without
 * `retainOnDelete`, or an install whose command is not yet the one that keeps
 * the passwords on the host (its update by the first step has not run, or
 * failed). Sorted, each once.
 */
export function sitesBeforeHostPasswords(state: unknown): string[] {
  const resources = (state as { deployment?: { resources?: unknown } } | undefined)?.deployment?.resources;
  if (!Array.isArray(resources)) return [];
  const schools = new Set<string>();
  for (const r of resources as StateResource[]) {
    if (r.delete === true || typeof r.urn !== "string") continue;
    const record = r.type === "command:local:Command" ? SITE_DNS.exec(r.urn) : null;
    if (record && r.retainOnDelete !== true) schools.add(record[1]);
    const install = r.type === "command:remote:Command" ? SITE_INSTALL.exec(r.urn) : null;
    const create = r.inputs?.create;
    if (install && !(typeof create === "string" && create.includes(PRINTS_ADMIN_PASSWORD))) schools.add(install[1]);
  }
  return [...schools].sort();
}

/** Why the run stops: the stack, up to five of its schools, and what to do. */
export function beforeHostPasswordsMessage(stack: string, schools: readonly string[]): string {
  return (
    `stack ${stack}: ${schools.length} site(s) were last applied by a version from before the hosts kept their sites' passwords (${idList(schools, 5)}). ` +
    "This version no longer has the stack's generated passwords, so it cannot apply them. " +
    "Run `fleet up` for this stack with commit a5fdc37 (DNS per host, passwords on the host) until its preview shows no change, then this version"
  );
}
