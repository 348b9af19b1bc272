import { describe, it, expect, beforeAll, afterAll } from "vitest";
import { startTestPostgres, type TestPostgres } from "../../support/postgres";
import { openStateStore, psql, psqlErrorLine, StoreError } from "../../../stacks/state/store";

// The fleet's own reads and writes in a PostgreSQL backend, on a database
// no stack has been written to yet: what `fleet state restore` meets first
// when an environment moves from the file backend.
describe("the fleet's objects in a new PostgreSQL backend", () => {
  let pg: TestPostgres;
  beforeAll(async () => {
    pg = await startTestPostgres();
  });
  afterAll(() => pg?.stop());

  it("lists nothing before Pulumi has made its table, then creates exclusively", async () => {
    const env = { ...process.env, PGPASSFILE: pg.passfile };
    const store = openStateStore(pg.backendUrl, env)!;
    expect(await store.list(".fleet/locks/")).toEqual([]);
    expect(await store.createExclusive(".fleet/locks/lab-lab01", "alice")).toBe(true);
    expect(await store.createExclusive(".fleet/locks/lab-lab01", "bob")).toBe(false);
    expect(await store.list(".fleet/locks/")).toEqual([{ key: ".fleet/locks/lab-lab01", data: "alice" }]);
  });

  it("reports psql's own error line, not the caret under the query", async () => {
    const err = await psql(pg.backendUrl, "SELECT * FROM no_such_table;", {}, { ...process.env, PGPASSFILE: pg.passfile }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StoreError);
    expect((err as Error).message).toMatch(/^state database: ERROR: +relation "no_such_table" does not exist/);
    expect(psqlErrorLine("ERROR:  relation \"x\" does not exist\nLINE 1: SELECT * FROM x;\n                      ^\n")).toMatch(/^ERROR:/);
  });
});
