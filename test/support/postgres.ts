import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { execFileSync, spawnSync } from "node:child_process";

/** Debian's PostgreSQL 15 server binaries (toolchain/debian-packages.sh installs them). */
export const PG_BIN = process.env.FLEET_PG_BIN ?? "/usr/lib/postgresql/15/bin";

/**
 * A PostgreSQL cluster of a test's own: created with initdb in a temporary
 * directory, listening on a Unix socket in that directory and on 127.0.0.1
 * only, with TLS from a CA made for it, so the backend runs as documented for
 * production (`sslmode=verify-full`, password from a passfile).
 */
export interface TestPostgres {
  dir: string;
  /** Directory of the Unix socket. */
  socketDir: string;
  port: number;
  /** The CA that signed the server's certificate (for sslrootcert). */
  caFile: string;
  /** A 0600 passfile holding the `fleet` role's password. */
  passfile: string;
  role: string;
  database: string;
  /** Backend URL as an operator writes it: no password, verified TLS to localhost. */
  backendUrl: string;
  /** Runs SQL as the superuser over the socket; returns psql's unaligned output. */
  adminSql(sql: string): string;
  stop(): void;
}

/** Who runs the server: initdb and postgres refuse to run as root. */
function serverUser(): string | undefined {
  return process.getuid?.() === 0 ? "postgres" : undefined;
}

function asServerUser(cmd: string, args: string[], opts: { cwd?: string } = {}): void {
  const user = serverUser();
  const [file, argv] = user ? ["runuser", ["-u", user, "--", cmd, ...args]] : [cmd, args];
  const r = spawnSync(file, argv, { cwd: opts.cwd, encoding: "utf8" });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(" ")} failed (${r.status}): ${r.stderr || r.stdout}`);
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

/** A CA and a server certificate for localhost and 127.0.0.1, made with openssl. */
function makeCertificates(dir: string): { ca: string; cert: string; key: string } {
  const f = (n: string) => path.join(dir, n);
  const openssl = (args: string[]) => execFileSync("openssl", args, { cwd: dir, stdio: ["ignore", "ignore", "pipe"] });
  openssl(["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-days", "2",
    "-subj", "/CN=moodle-fleet test CA", "-keyout", f("ca.key"), "-out", f("ca.crt")]);
  openssl(["req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
    "-subj", "/CN=localhost", "-keyout", f("server.key"), "-out", f("server.csr")]);
  fs.writeFileSync(f("san.ext"), "subjectAltName=DNS:localhost,IP:127.0.0.1\n");
  openssl(["x509", "-req", "-in", f("server.csr"), "-CA", f("ca.crt"), "-CAkey", f("ca.key"), "-CAcreateserial",
    "-days", "2", "-extfile", f("san.ext"), "-out", f("server.crt")]);
  return { ca: f("ca.crt"), cert: f("server.crt"), key: f("server.key") };
}

/**
 * Starts a fresh cluster with a role `fleet` owning a database `pulumi`,
 * as the README's "Team use" asks an operator to create them. The password
 * is random, goes to the server inside SQL on psql's stdin and to the client
 * only in the passfile.
 */
export async function startTestPostgres(): Promise<TestPostgres> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "fleet-pg-"));
  const data = path.join(dir, "data");
  const socketDir = path.join(dir, "sock");
  const tls = path.join(dir, "tls");
  fs.mkdirSync(data, { mode: 0o700 });
  fs.mkdirSync(socketDir, { mode: 0o700 });
  fs.mkdirSync(tls, { mode: 0o700 });
  const certs = makeCertificates(tls);
  const user = serverUser();
  if (user) {
    // The server reads its data, socket and key as `postgres`; the temp dir itself stays root's and 0700,
    // with the server's own directories inside it reachable by path.
    fs.chmodSync(dir, 0o711);
    for (const p of [data, socketDir, tls, certs.key, certs.cert]) execFileSync("chown", [user, p]);
  }
  fs.chmodSync(certs.key, 0o600);
  const port = await freePort();
  asServerUser(path.join(PG_BIN, "initdb"), ["-D", data, "-U", "postgres", "--auth-local=trust", "--auth-host=scram-sha-256", "-E", "UTF8", "--locale=C.UTF-8"], { cwd: dir });
  // Only the superuser may use the socket without a password; `fleet` must authenticate on every path.
  fs.writeFileSync(
    path.join(data, "pg_hba.conf"),
    ["local all postgres trust", "local all all scram-sha-256", "hostssl all all 127.0.0.1/32 scram-sha-256", ""].join("\n"),
  );
  const conf = [
    `port = ${port}`,
    "listen_addresses = '127.0.0.1'",
    `unix_socket_directories = '${socketDir}'`,
    "ssl = on",
    `ssl_cert_file = '${certs.cert}'`,
    `ssl_key_file = '${certs.key}'`,
    "",
  ].join("\n");
  fs.appendFileSync(path.join(data, "postgresql.conf"), conf);
  asServerUser(path.join(PG_BIN, "pg_ctl"), ["-D", data, "-l", path.join(data, "server.log"), "-w", "-t", "60", "start"], { cwd: dir });

  const psql = (sql: string, db = "postgres") =>
    execFileSync(path.join(PG_BIN, "psql"), ["-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-h", socketDir, "-p", String(port), "-U", "postgres", "-d", db], {
      input: sql,
      encoding: "utf8",
      // The superuser comes in over the socket without a password; no operator's passfile applies.
      env: Object.fromEntries(Object.entries(process.env).filter(([k]) => k !== "PGPASSWORD" && k !== "PGPASSFILE")),
    });

  const role = "fleet";
  const database = "pulumi";
  const password = crypto.randomBytes(24).toString("base64url");
  psql(`CREATE ROLE ${role} LOGIN PASSWORD '${password}';\nCREATE DATABASE ${database} OWNER ${role};\n`);
  const passfile = path.join(dir, "pgpass");
  fs.writeFileSync(passfile, `localhost:${port}:${database}:${role}:${password}\n127.0.0.1:${port}:${database}:${role}:${password}\n`, { mode: 0o600 });

  const backendUrl =
    `postgres://${role}@localhost:${port}/${database}?sslmode=verify-full&sslrootcert=${encodeURIComponent(certs.ca)}`;
  let stopped = false;
  return {
    dir,
    socketDir,
    port,
    caFile: certs.ca,
    passfile,
    role,
    database,
    backendUrl,
    adminSql: (sql) => psql(sql, database),
    stop() {
      if (stopped) return;
      stopped = true;
      try {
        asServerUser(path.join(PG_BIN, "pg_ctl"), ["-D", data, "-m", "fast", "-w", "stop"], { cwd: dir });
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}
