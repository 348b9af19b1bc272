import * as fs from "node:fs";
import * as path from "node:path";
import { execFile } from "node:child_process";
import { parseBackendUrl, type Backend } from "./backend";

/** One object of the backend's key space, its content as text. */
export interface StoredObject {
  key: string;
  data: string;
}

/**
 * The part of a DIY backend's key space the fleet reads and writes itself:
 * Pulumi's lock objects (read only) and the fleet's own run locks. Keys are
 * relative to the backend's root, as Pulumi names them (`.pulumi/locks/…`).
 */
export interface StateStore {
  readonly backend: Backend;
  /** Objects whose key starts with `prefix`, sorted by key. */
  list(prefix: string): Promise<StoredObject[]>;
  /** Creates `key` unless it exists; true when this call created it. Atomic against other writers. */
  createExclusive(key: string, data: string): Promise<boolean>;
  /** Deletes `key` if its content is still `data` (so nobody else's object goes). */
  removeIf(key: string, data: string): Promise<void>;
}

/** The store of a backend URL; undefined for backends the fleet cannot read itself (cloud buckets). */
export function openStateStore(url: string, env: NodeJS.ProcessEnv = process.env): StateStore | undefined {
  const backend = parseBackendUrl(url);
  if (backend.kind === "postgres" && new URL(url).password !== "") throw new StoreError("the backend URL holds a password; use PGPASSFILE or PGPASSWORD");
  if (backend.kind === "file") return fileStore(backend);
  if (backend.kind === "postgres") return postgresStore(backend, env);
  return undefined;
}

/**
 * The file backend keeps each object's metadata in a sidecar `<key>.attrs`:
 * not an object of its own, and gone with the object.
 */
const ATTRS = ".attrs";

function fileStore(backend: Extract<Backend, { kind: "file" }>): StateStore {
  const full = (key: string) => path.join(backend.dir, ...key.split("/"));
  return {
    backend,
    async list(prefix) {
      const dir = full(prefix.replace(/\/[^/]*$/, ""));
      const out: StoredObject[] = [];
      const walk = (d: string) => {
        if (!fs.existsSync(d)) return;
        for (const e of fs.readdirSync(d, { withFileTypes: true })) {
          const p = path.join(d, e.name);
          if (e.isDirectory()) walk(p);
          else if (!e.name.endsWith(ATTRS)) {
            const key = path.relative(backend.dir, p).split(path.sep).join("/");
            if (key.startsWith(prefix)) out.push({ key, data: fs.readFileSync(p, "utf8") });
          }
        }
      };
      walk(dir);
      return out.sort((a, b) => (a.key < b.key ? -1 : 1));
    },
    async createExclusive(key, data) {
      const file = full(key);
      fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
      try {
        // O_EXCL: of two processes creating the same file, exactly one succeeds.
        fs.writeFileSync(file, data, { flag: "wx", mode: 0o600 });
        return true;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === "EEXIST") return false;
        throw error;
      }
    },
    async removeIf(key, data) {
      const file = full(key);
      if (fs.existsSync(file) && fs.readFileSync(file, "utf8") === data) {
        fs.rmSync(file);
        fs.rmSync(file + ATTRS, { force: true });
      }
    },
  };
}

/**
 * PostgreSQL through psql: it takes the same connection URL and the same
 * password sources (PGPASSFILE, PGPASSWORD) as Pulumi's driver, and keeps
 * the fleet free of a database client library. Values reach SQL as psql
 * variables (`:'name'`), quoted by psql.
 */
function postgresStore(backend: Extract<Backend, { kind: "postgres" }>, env: NodeJS.ProcessEnv): StateStore {
  const table = backend.table;
  const sql = (script: string, vars: Record<string, string>) => psql(backend.conninfo, script, vars, env);
  // Pulumi keeps each object as {"data": base64}; the fleet's own objects follow suit.
  const encode = (data: string) => JSON.stringify({ data: Buffer.from(data).toString("base64") });
  const decode = (json: { data: string }) => Buffer.from(json.data, "base64").toString("utf8");
  return {
    backend,
    async list(prefix) {
      // A database no stack has been written to yet has no table: nothing is listed (a
      // first `fleet state restore` into a new database locks before Pulumi creates it).
      const out = await sql(
        `SELECT to_regclass(:'table') IS NOT NULL AS present \\gset\n` +
          `\\if :present\n` +
          `SELECT coalesce(json_agg(json_build_object('key', key, 'data', data) ORDER BY key), '[]') FROM ${table} ` +
          `WHERE starts_with(key, :'prefix');\n` +
          `\\else\nSELECT '[]';\n\\endif\n`,
        { prefix: backend.prefix + prefix, table },
      );
      return (JSON.parse(out) as { key: string; data: { data: string } }[]).map((r) => ({
        key: r.key.slice(backend.prefix.length),
        data: decode(r.data),
      }));
    },
    async createExclusive(key, data) {
      // The same table Pulumi creates on first use (its schema.sql), in case the fleet writes first.
      const out = await sql(
        `CREATE TABLE IF NOT EXISTS ${table} (key TEXT PRIMARY KEY, data JSON NOT NULL, ` +
          `updated_at TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now());\n` +
          `INSERT INTO ${table} (key, data) VALUES (:'key', :'data') ON CONFLICT (key) DO NOTHING RETURNING 1;`,
        { key: backend.prefix + key, data: encode(data) },
      );
      return out === "1";
    },
    async removeIf(key, data) {
      await sql(`DELETE FROM ${table} WHERE key = :'key' AND data::text = :'data';`, { key: backend.prefix + key, data: encode(data) });
    },
  };
}

export class StoreError extends Error {}

/** psql's own error line ("ERROR:  relation … does not exist"), not the caret under the query that follows it. */
export function psqlErrorLine(stderr: string): string | undefined {
  const lines = stderr.split("\n").map((l) => l.trim()).filter((l) => l !== "");
  return lines.find((l) => /(ERROR|FATAL|error):/.test(l)) ?? lines[0];
}

/** Runs a script through psql on stdin; returns its unaligned, tuples-only output, trimmed. */
export function psql(conninfo: string, script: string, vars: Record<string, string>, env: NodeJS.ProcessEnv): Promise<string> {
  const args = ["-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-d", conninfo];
  // Variable values are keys and lock descriptions, never secrets: they may appear in argv.
  for (const [k, v] of Object.entries(vars)) args.push("-v", `${k}=${v}`);
  return new Promise((resolve, reject) => {
    const child = execFile(process.env.FLEET_PSQL ?? "psql", args, { env: { ...env, PGCONNECT_TIMEOUT: env.PGCONNECT_TIMEOUT ?? "10" } }, (error, stdout, stderr) => {
      if ((error as NodeJS.ErrnoException | null)?.code === "ENOENT") {
        reject(new StoreError("psql is not installed: the fleet reads locks from a PostgreSQL backend with it (Debian: postgresql-client)"));
      } else if (error) {
        reject(new StoreError(`state database: ${psqlErrorLine(stderr) ?? error.message}`));
      } else resolve(stdout.trim());
    });
    // A child that fails before reading its input closes the pipe; its exit status reports that.
    child.stdin!.on("error", () => undefined);
    child.stdin!.end(script);
  });
}
