import { describe, it, expect } from "vitest";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { checkBackendUrl, parseBackendUrl, passwordSource } from "../../../stacks/state/backend";

describe("backend URLs", () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "fleet-backend-"));
  const passfile = path.join(dir, "pgpass");
  fs.writeFileSync(passfile, "db.example:5432:pulumi:fleet:secret\n", { mode: 0o600 });
  const withPassfile = { PGPASSFILE: passfile, HOME: dir };

  it("reads the file backend's directory and PostgreSQL's table and key prefix", () => {
    expect(parseBackendUrl("file:///srv/state")).toEqual({ kind: "file", url: "file:///srv/state", dir: "/srv/state" });
    const pg = parseBackendUrl("postgres://fleet@db.example:5432/pulumi?sslmode=verify-full&table=fleet_state");
    expect(pg).toMatchObject({ kind: "postgres", table: "fleet_state", prefix: "pulumi/" });
    // psql must not see Pulumi's own `table` parameter.
    expect(pg.kind === "postgres" && pg.conninfo).toBe("postgres://fleet@db.example:5432/pulumi?sslmode=verify-full");
    expect(parseBackendUrl("postgres://fleet@db.example/pulumi")).toMatchObject({ table: "pulumi_state" });
  });

  it("refuses a table name that is not a plain SQL name", () => {
    expect(() => parseBackendUrl("postgres://fleet@db/pulumi?table=x;drop")).toThrow(/plain SQL name/);
  });

  it("accepts a password-less URL with a passfile or PGPASSWORD", () => {
    const url = "postgres://fleet@db.example:5432/pulumi?sslmode=verify-full";
    expect(checkBackendUrl(url, withPassfile)).toEqual([]);
    expect(checkBackendUrl(url, { PGPASSWORD: "x", HOME: dir })).toEqual([]);
    expect(passwordSource({ PGPASSWORD: "x" }).kind).toBe("env");
  });

  it("refuses a password in the URL, without repeating it", () => {
    const problems = checkBackendUrl("postgres://fleet:hunter2@db.example/pulumi", withPassfile);
    expect(problems.join("\n")).toMatch(/holds a password/);
    expect(problems.join("\n")).not.toContain("hunter2");
  });

  it("says when there is no password at all, and when the passfile is readable by others", () => {
    expect(checkBackendUrl("postgres://fleet@db/pulumi", { HOME: dir })).toEqual([expect.stringMatching(/no password/)]);
    const open = path.join(dir, "open-pgpass");
    fs.writeFileSync(open, "x", { mode: 0o644 });
    fs.chmodSync(open, 0o644);
    expect(checkBackendUrl("postgres://fleet@db/pulumi", { PGPASSFILE: open, HOME: dir })).toEqual([expect.stringMatching(/chmod 600/)]);
    // A client certificate needs no password.
    expect(checkBackendUrl("postgres://fleet@db/pulumi?sslcert=/c.crt&sslkey=/c.key", { HOME: dir })).toEqual([]);
  });

  it("names the scheme Pulumi wants", () => {
    expect(checkBackendUrl("postgresql://fleet@db/pulumi", withPassfile)[0]).toMatch(/postgres:\/\//);
    expect(checkBackendUrl("file:///x", {})).toEqual([]);
  });
});
