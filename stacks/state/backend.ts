import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

/** The Pulumi project every fleet stack belongs to, and the DIY backends' fixed organization. */
export const PROJECT = "moodle-fleet";
export const DIY_ORG = "organization";

/**
 * A Pulumi DIY state backend, as far as the fleet reads it itself (locks,
 * backups). `prefix` is where the backend keeps its `.pulumi/` tree: the
 * file backend's directory, or inside PostgreSQL the URL's path (the
 * database name) followed by a slash, which Pulumi puts before every key.
 */
export type Backend =
  | { kind: "file"; url: string; dir: string }
  | { kind: "postgres"; url: string; table: string; prefix: string; conninfo: string }
  | { kind: "other"; url: string };

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;

export class BackendError extends Error {}

/** Reads a PULUMI_BACKEND_URL. A PostgreSQL URL never carries a password (checkBackendUrl refuses one). */
export function parseBackendUrl(url: string): Backend {
  if (url.startsWith("file://")) {
    const rest = url.slice("file://".length).split("?")[0];
    return { kind: "file", url, dir: rest.startsWith("~") ? path.join(os.homedir(), rest.slice(1)) : path.resolve(rest) };
  }
  if (url.startsWith("postgres://")) {
    const u = new URL(url);
    const table = u.searchParams.get("table") ?? "pulumi_state";
    if (!IDENTIFIER.test(table)) throw new BackendError(`table=${JSON.stringify(table)} in the backend URL is not a plain SQL name`);
    // `table` is Pulumi's own parameter; libpq (psql) would reject it.
    u.searchParams.delete("table");
    const sub = decodeURIComponent(u.pathname).replace(/^\/+/, "");
    return { kind: "postgres", url, table, prefix: sub === "" || sub.endsWith("/") ? sub : `${sub}/`, conninfo: u.toString() };
  }
  return { kind: "other", url };
}

/** Where libpq (and so Pulumi's driver and psql) would find a password, if anywhere. */
export function passwordSource(env: NodeJS.ProcessEnv = process.env): { kind: "env" | "passfile" | "none"; file?: string } {
  if (env.PGPASSWORD) return { kind: "env" };
  const file = env.PGPASSFILE || path.join(env.HOME ?? os.homedir(), ".pgpass");
  return fs.existsSync(file) ? { kind: "passfile", file } : { kind: "none" };
}

/**
 * Problems that make a backend URL unfit for the fleet, as messages for the
 * operator; none for a usable one. A PostgreSQL password belongs in a
 * passfile or PGPASSWORD: a URL travels into error messages, shell history
 * and CI logs, and Pulumi records it where it keeps the current login.
 */
export function checkBackendUrl(url: string, env: NodeJS.ProcessEnv = process.env): string[] {
  if (url.startsWith("postgresql://")) return ["Pulumi's PostgreSQL backend is selected by the scheme postgres:// (not postgresql://)"];
  if (!url.startsWith("postgres://")) return [];
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return ["PULUMI_BACKEND_URL is not a valid postgres:// URL"];
  }
  const problems: string[] = [];
  if (u.password !== "") {
    problems.push(
      "PULUMI_BACKEND_URL holds a password: remove it from the URL and put it in a passfile " +
        "(PGPASSFILE, mode 0600) or in PGPASSWORD from a secret store",
    );
  }
  try {
    parseBackendUrl(url);
  } catch (error) {
    problems.push((error as Error).message);
  }
  // A client certificate authenticates without a password.
  if (!u.searchParams.has("sslcert")) {
    const source = passwordSource(env);
    if (source.kind === "none") {
      problems.push("no password for the state database: set PGPASSFILE to a passfile (mode 0600), or PGPASSWORD");
    } else if (source.kind === "passfile" && (fs.statSync(source.file!).mode & 0o077) !== 0) {
      // libpq ignores such a file with only a warning; the login would then fail for no visible reason.
      problems.push(`${source.file} must be readable by its owner only (chmod 600): the PostgreSQL client ignores it otherwise`);
    }
  }
  return problems;
}
