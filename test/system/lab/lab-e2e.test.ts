import { describe, it, expect, beforeAll, afterAll } from "vitest";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { execFile } from "node:child_process";
import { repoRoot, toolchainEnv } from "../../../stacks/toolchain";
import { backendEnv } from "../../../stacks/driver/fleet-command";
import { escapeHtml } from "../../../tools/health/check";
import { labSkipped, virshSucceeds } from "../../support/lab-services";
import { startTestPostgres } from "../../support/postgres";
import { copyPipelineFiles, mergeRequestPipeline, pipelineFiles } from "../team/gitlab-ci-local";

// `npm run lab` from scratch, then what an operator does to a running fleet,
// each change previewed (counts asserted) before it is applied: nothing to
// do, a school added, a broken school found and repaired, a school removed,
// a school moved to the other VM, and the lab torn down. Every check runs from inside the lab's namespace,
// against the real BIND, Apache, MariaDB and sshd of the lab's VMs.

const NETNS = "moodle-lab";
const DNS = "10.77.0.1";
const LAB_KEY = path.join(repoRoot, ".lab/ssh/id_ed25519");
const SECRETS = path.join(repoRoot, ".lab/secrets");
const CREDENTIALS = path.join(repoRoot, ".lab/credentials.json");
const FLEET_BIN = path.join(repoRoot, "bin/fleet");
const INJECTED = "/tmp/fleet-injected"; // what the hostile school name in schools/lab would create
const NEW_SCHOOL = { id: "04190007", name: "Grundschule Zwölf Äpfel & 'Birnen'", host: "" };

interface Run {
  code: number;
  stdout: string;
  stderr: string;
  seconds: number;
}

function run(command: string, args: readonly string[], input?: string, env: Record<string, string> = {}): Promise<Run> {
  const started = Date.now();
  return new Promise((resolve) => {
    const child = execFile(command, args, { cwd: repoRoot, maxBuffer: 64 << 20, env: { ...process.env, ...env } }, (error, stdout, stderr) =>
      resolve({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr, seconds: (Date.now() - started) / 1000 }),
    );
    // A command that exits without reading its input (pgrep, say) closes the
    // pipe first; that is not a failure of the command, whose exit code is checked.
    child.stdin!.on("error", () => undefined);
    child.stdin!.end(input ?? "");
  });
}

const inLab = (command: string, ...args: string[]) => run("ip", ["netns", "exec", NETNS, command, ...args]);

/** Runs a script as root on a lab VM; `input` goes to its standard input (secrets travel this way only). */
function onHost(address: string, script: string, input?: string): Promise<Run> {
  return run(
    "ip",
    [
      "netns", "exec", NETNS, "ssh", "-i", LAB_KEY, "-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=no",
      "-o", "UserKnownHostsFile=/dev/null", "-o", "LogLevel=ERROR", "-o", "ConnectTimeout=10", `root@${address}`, script,
    ],
    input,
  );
}

async function dig(name: string): Promise<string[]> {
  const r = await inLab("dig", `@${DNS}`, "+short", "+time=3", "A", name);
  expect(r.code).toBe(0);
  return r.stdout.split("\n").filter(Boolean);
}

/** Counts per change kind from the driver's summary table (its "total" row). */
function totals(summary: string): Record<string, number> {
  const lines = summary.split("\n");
  const header = lines.find((l) => /^cell\s/.test(l));
  const total = lines.find((l) => /^total\s/.test(l));
  if (!header || !total) throw new Error(`no summary table in:\n${summary}`);
  const kinds = header.trim().split(/\s+/).slice(1);
  const counts = total.trim().split(/\s+/).slice(1).map(Number);
  return Object.fromEntries(kinds.slice(0, counts.length).map((k, i) => [k, counts[i]]));
}

const changed = (t: Record<string, number>) => ({ create: t.create, update: t.update, replace: t.replace, delete: t.delete });

interface Outputs {
  sites: Record<string, { schoolId: string; name: string; fqdn: string; url: string; host: string }>;
  hosts: Record<string, { address: string }>;
  adminPasswords: Record<string, string>;
}

describe.skipIf(labSkipped)("the lab, end to end", () => {
  const scratch = fs.mkdtempSync(path.join(os.tmpdir(), "fleet-lab-e2e-"));
  const schoolsFile = path.join(scratch, "schools.csv");
  const ledgerFile = path.join(scratch, "placement.csv");
  const inputs = ["--schools", schoolsFile, "--ledger", ledgerFile];
  const times: Record<string, number> = {};
  let outputs: Outputs;

  const fleet = (...args: string[]) => inLab("env", `PATH=${process.env.PATH}`, path.join(repoRoot, "bin/fleet"), ...args);
  const driver = (operation: string, ...extra: string[]) =>
    fleet(operation, "--env", "lab", ...inputs, "--secrets-dir", SECRETS, ...extra);

  async function readOutputs(): Promise<Outputs> {
    const file = path.join(scratch, "outputs.json");
    const r = await fleet("outputs", "--env", "lab", "--out", file, "--show-secrets");
    expect(r.stderr).toMatch(/wrote/);
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    return JSON.parse(fs.readFileSync(file, "utf8")) as Outputs;
  }

  /** Everything the issue asks of one school's site, checked for real. */
  async function checkSchool(id: string, all: Outputs) {
    const site = all.sites[id];
    const address = all.hosts[site.host].address;
    // DNS: exactly its host's address.
    expect(await dig(site.fqdn)).toEqual([address]);
    // HTTP with its name as Host: 200, its own name escaped, no other school's name.
    const page = await inLab("curl", "-sS", "-o", "-", "-w", "\\n%{http_code}", "-H", `Host: ${site.fqdn}`, `http://${address}/`);
    const status = page.stdout.trim().split("\n").pop();
    expect(status).toBe("200");
    expect(page.stdout).toContain(escapeHtml(site.name));
    for (const other of Object.values(all.sites)) {
      if (other.schoolId !== id) expect(page.stdout).not.toContain(escapeHtml(other.name));
    }
    // The admin password from the stack outputs verifies against the stored hash (password on stdin).
    const verify = await onHost(
      address,
      `IFS= read -r PW
HASH=$(mysql -N -B -e "SELECT password FROM \\\`moodle_${id}\\\`.mdl_user WHERE username = 'admin'")
HASH="$HASH" php -r 'echo password_verify(rtrim(fgets(STDIN), "\\n"), getenv("HASH")) ? "verified" : "mismatch";' <<<"$PW"`,
      `${all.adminPasswords[id]}\n`,
    );
    expect(verify.stdout).toBe("verified");
  }

  /** Site `a` (its DB account and Linux user) cannot read site `b`'s database or data. */
  async function checkIsolation(a: string, b: string, address: string) {
    const php = `<?php
$CFG = new stdClass();
include '/srv/moodle/sites/${a}/site-config.php';
$db = new PDO('mysql:unix_socket=/run/mysqld/mysqld.sock;dbname=' . $CFG->dbname, $CFG->dbuser, $CFG->dbpass);
echo $db->query('SELECT COUNT(*) FROM mdl_config')->fetchColumn() > 0 ? "own:ok " : "own:empty ";
try { $db->query('SELECT COUNT(*) FROM \`moodle_${b}\`.mdl_config'); echo "other:readable"; }
catch (PDOException $e) { echo "other:denied"; }
`;
    const db = await onHost(address, `runuser -u m${a} -- php`, php);
    expect(db.stdout).toBe("own:ok other:denied");
    const files = await onHost(address, `runuser -u m${a} -- ls /srv/moodledata/${b}/ >/dev/null 2>&1 && echo readable || echo denied`);
    expect(files.stdout.trim()).toBe("denied");
    // Redis: site a's own user reaches its own keys only; without a user nothing is reachable.
    const redis = await onHost(
      address,
      `{ printf 'AUTH moodle-${a} %s\\n' "$(cat /srv/moodle/sites/${a}/redis.secret)"
  printf 'SET moodle:${a}:probe 1\\nGET moodle:${b}:probe\\nKEYS *\\nDEL moodle:${a}:probe\\n'; } | redis-cli --raw
redis-cli --raw GET moodle:${b}:probe`,
    );
    // redis-cli --raw follows an error reply with an empty line; no reply here is empty otherwise.
    const replies = redis.stdout.split("\n").filter((l) => l.trim() !== "");
    expect(replies.slice(0, 2)).toEqual(["OK", "OK"]);
    expect(replies[2]).toMatch(/^NOPERM/);
    expect(replies[3]).toMatch(/^NOPERM/);
    expect(replies[4]).toBe("1");
    expect(replies[5]).toMatch(/^NOAUTH/);
  }

  beforeAll(async () => {
    fs.copyFileSync(path.join(repoRoot, "schools/lab/schools.csv"), schoolsFile);
    fs.copyFileSync(path.join(repoRoot, "schools/lab/placement.csv"), ledgerFile);
    // The records beside the ledger go with it: without uids.csv the sites
    // would plan without their UIDs, and differ from what `npm run lab` made.
    for (const record of ["hosts.csv", "uids.csv"]) fs.copyFileSync(path.join(repoRoot, "schools/lab", record), path.join(scratch, record));
    fs.rmSync(INJECTED, { force: true });
    const lab = await run("bash", [path.join(repoRoot, "lab/lab.sh")]);
    times["npm run lab (first)"] = lab.seconds;
    if (lab.code !== 0) throw new Error(`npm run lab failed:\n${lab.stdout}\n${lab.stderr.slice(-6000)}`);
    expect(changed(totals(lab.stdout))).toEqual({ create: expect.any(Number), update: 0, replace: 0, delete: 0 });
    // What each kind of step took: the terms of the README's scale model, measured on the lab.
    const durations = lab.stdout.slice(lab.stdout.indexOf("step durations"));
    expect(durations).toMatch(/^command:remote:Command install\s+create\s+6\s/m);
    console.log(`npm run lab from nothing, ${lab.seconds.toFixed(1)} s:\n${durations.split("\n\n")[0]}`);
    outputs = readCredentials();
  });

  afterAll(async () => {
    console.log(`lab end-to-end, seconds per step: ${JSON.stringify(times, null, 2)}`);
    fs.rmSync(scratch, { recursive: true, force: true });
  });

  function readCredentials(): Outputs {
    expect(fs.statSync(CREDENTIALS).mode & 0o777).toBe(0o600);
    return JSON.parse(fs.readFileSync(CREDENTIALS, "utf8")) as Outputs;
  }

  it("serves every school under its own name, resolved by the lab's BIND, isolated from the others", async () => {
    expect(Object.keys(outputs.sites)).toHaveLength(6);
    for (const id of Object.keys(outputs.sites)) await checkSchool(id, outputs);
    // Nothing else resolves: a school that is not in the fleet has no record.
    expect(await dig(`04199999.${Object.values(outputs.sites)[0].fqdn.split(".").slice(1).join(".")}`)).toEqual([]);
    // Two schools on the same host cannot read each other's database or files.
    const byHost = new Map<string, string[]>();
    for (const s of Object.values(outputs.sites)) byHost.set(s.host, [...(byHost.get(s.host) ?? []), s.schoolId]);
    for (const [host, ids] of byHost) await checkIsolation(ids[0], ids[1], outputs.hosts[host].address);
  });

  it("keeps passwords and command output out of the state in plain text", async () => {
    const exported = await run(path.join(repoRoot, ".toolchain/bin/pulumi"), ["stack", "export", "--stack", "lab-lab01"], undefined, {
      ...toolchainEnv(),
      ...backendEnv("lab"),
    });
    expect(exported.code).toBe(0);
    for (const password of Object.values(outputs.adminPasswords)) expect(exported.stdout).not.toContain(password);
    const state = JSON.parse(exported.stdout) as {
      deployment: { resources: { urn: string; type: string; inputs?: Record<string, any>; outputs?: Record<string, unknown> }[] };
    };
    const commands = state.deployment.resources.filter((r) => r.type.startsWith("command:"));
    expect(commands.length).toBeGreaterThan(6);
    // The fleet's SSH key is in no resource, not even encrypted: remote commands sign through the run's agent.
    const remote = commands.filter((c) => c.type === "command:remote:Command");
    expect(remote.length).toBeGreaterThan(6);
    for (const c of remote) expect(Object.keys(c.inputs?.connection ?? {})).not.toContain("privateKey");
    // What one site costs in the state: its resources' share of the checkpoint (the figure the file backend rewrites per step).
    const ids = Object.keys(outputs.sites);
    const bytes = ids.map((id) =>
      state.deployment.resources.filter((r) => (r.urn.split("::").pop() ?? "").startsWith(id)).reduce((n, r) => n + JSON.stringify(r).length, 0),
    );
    console.log(`state bytes per site (lab-lab01, ${ids.length} sites): ${bytes.join(", ")}; mean ${Math.round(bytes.reduce((a, b) => a + b, 0) / ids.length)}`);
    for (const c of commands) {
      for (const key of ["stdout", "stderr"]) {
        // A secret is stored as an object with Pulumi's signature key, never as a string.
        if (c.outputs?.[key] !== undefined) expect(typeof c.outputs[key]).toBe("object");
      }
    }
  });

  it("ran nothing from the hostile school name, on this machine or any VM", async () => {
    const hostile = Object.values(outputs.sites).find((s) => s.name.includes("$("))!;
    expect(hostile.name).toContain("`touch");
    expect(fs.existsSync(INJECTED)).toBe(false);
    for (const h of Object.values(outputs.hosts)) {
      expect((await onHost(h.address, `test -e ${INJECTED} && echo present || echo absent`)).stdout.trim()).toBe("absent");
    }
  });

  it("changes nothing on a second `npm run lab`, and its preview says so", async () => {
    const again = await run("bash", [path.join(repoRoot, "lab/lab.sh")]);
    times["npm run lab (again)"] = again.seconds;
    expect(again.code).toBe(0);
    expect(changed(totals(again.stdout))).toEqual({ create: 0, update: 0, replace: 0, delete: 0 });
    const preview = await driver("preview");
    times["no-op preview"] = preview.seconds;
    expect(changed(totals(preview.stdout))).toEqual({ create: 0, update: 0, replace: 0, delete: 0 });
  });

  it("adds a school: only its resources are created, and it serves", async () => {
    fs.appendFileSync(schoolsFile, `${NEW_SCHOOL.id},"${NEW_SCHOOL.name.replace(/"/g, '""')}",Ulm,poststelle@${NEW_SCHOOL.id}.schulen.example,\n`);
    const plan = await fleet("plan", "--write", "--stack", "lab", ...inputs);
    expect(plan.code).toBe(0);
    expect(fs.readFileSync(ledgerFile, "utf8")).toContain(`${NEW_SCHOOL.id},lab01-vm0`);

    const preview = await driver("preview");
    times["add: preview"] = preview.seconds;
    // Its install, and its host's records gain its name; nothing else changes.
    expect(changed(totals(preview.stdout))).toEqual({ create: 1, update: 1, replace: 0, delete: 0 });
    const up = await driver("up");
    times["add: up"] = up.seconds;
    expect(up.code).toBe(0);
    expect(changed(totals(up.stdout))).toEqual({ create: 1, update: 1, replace: 0, delete: 0 });

    outputs = await readOutputs();
    expect(Object.keys(outputs.sites)).toHaveLength(7);
    await checkSchool(NEW_SCHOOL.id, outputs);
    const check = await fleet("check", "--env", "lab", ...inputs);
    expect(check.stdout).toMatch(/7 ok, 0 failed/);
  });

  it("finds a broken school with `fleet check` and repairs it through preview and up, keeping its data", async () => {
    const id = "04190001";
    const address = outputs.hosts[outputs.sites[id].host].address;
    const keep = `/srv/moodledata/${id}/kept-by-repair.txt`;
    expect((await onHost(address, `echo lesson-plan >${keep} && rm -f /srv/moodle/sites/${id}/site-config.php`)).code).toBe(0);

    const broken = await fleet("check", "--env", "lab", ...inputs);
    expect(broken.code, broken.stdout + broken.stderr).toBe(1);
    expect(broken.stdout).toMatch(new RegExp(`^${id}\\s.*FAILED`, "m"));
    expect(broken.stdout).toMatch(/6 ok, 1 failed/);

    const mark = await fleet("repair", id, "--reason", "site-config.php deleted", "--stack", "lab", ...inputs);
    expect(mark.code).toBe(0);
    const preview = await driver("preview");
    times["repair: preview"] = preview.seconds;
    // Exactly that site's install, updated in place: nothing replaced or deleted.
    expect(changed(totals(preview.stdout))).toEqual({ create: 0, update: 1, replace: 0, delete: 0 });
    const up = await driver("up");
    times["repair: up"] = up.seconds;
    expect(changed(totals(up.stdout))).toEqual({ create: 0, update: 1, replace: 0, delete: 0 });

    const healed = await fleet("check", "--env", "lab", ...inputs);
    expect(healed.code, healed.stdout + healed.stderr).toBe(0);
    await checkSchool(id, outputs);
    expect((await onHost(address, `cat ${keep}`)).stdout.trim()).toBe("lesson-plan");
  });

  it("removes a school: one 0600 archive on its host, its record gone, the others untouched", async () => {
    const removed = outputs.sites[NEW_SCHOOL.id];
    const address = outputs.hosts[removed.host].address;
    fs.writeFileSync(schoolsFile, fs.readFileSync(schoolsFile, "utf8").split("\n").filter((l) => !l.startsWith(`${NEW_SCHOOL.id},`)).join("\n"));
    expect((await fleet("plan", "--write", "--stack", "lab", ...inputs)).code).toBe(0);
    expect(fs.readFileSync(ledgerFile, "utf8")).not.toContain(NEW_SCHOOL.id);

    const preview = await driver("preview");
    times["remove: preview"] = preview.seconds;
    // Its install; its host's records lose its name, which removes the record.
    expect(changed(totals(preview.stdout))).toEqual({ create: 0, update: 1, replace: 0, delete: 1 });
    const up = await driver("up", "--allow-delete", "1");
    times["remove: up"] = up.seconds;
    expect(up.code).toBe(0);
    expect(changed(totals(up.stdout))).toEqual({ create: 0, update: 1, replace: 0, delete: 1 });

    const archives = await onHost(address, `stat -c '%a %n' /srv/moodle/archive/${NEW_SCHOOL.id}-*.tar.gz`);
    const lines = archives.stdout.trim().split("\n");
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^600 /);
    const listing = await onHost(address, `tar -tzf ${lines[0].split(" ")[1]}`);
    expect(listing.stdout).toMatch(/^database\.sql$/m);
    expect(listing.stdout).toMatch(/^site-config\.php$/m);
    expect(listing.stdout).toMatch(new RegExp(`^${NEW_SCHOOL.id}/`, "m"));
    expect(await dig(removed.fqdn)).toEqual([]);
    const check = await fleet("check", "--env", "lab", ...inputs);
    expect(check.code, check.stdout + check.stderr).toBe(0);
    expect(check.stdout).toMatch(/6 ok, 0 failed/);
  });

  it("moves a school to the other VM only with --allow-move: the new host serves it, the old one keeps its archive", async () => {
    const id = "04190003";
    outputs = await readOutputs();
    expect(Object.keys(outputs.sites)).toHaveLength(6);
    const from = outputs.sites[id].host;
    const to = Object.keys(outputs.hosts).find((h) => h !== from)!;
    const oldAddress = outputs.hosts[from].address;
    // The other VM has a free slot again since the seventh school left; the ledger row is edited as an operator would.
    const row = new RegExp(`^${id},${from}$`, "m");
    expect(fs.readFileSync(ledgerFile, "utf8")).toMatch(row);
    fs.writeFileSync(ledgerFile, fs.readFileSync(ledgerFile, "utf8").replace(row, `${id},${to}`));
    expect((await fleet("validate", "--stack", "lab", ...inputs)).code).toBe(0);

    const line = `MOVE ${id} ${from} -> ${to}: the site on the new host starts empty; the old site is archived on the old host`;
    const preview = await driver("preview");
    times["move: preview"] = preview.seconds;
    expect(preview.code).toBe(4);
    expect(preview.stdout).toContain(line);
    // The engine alone sees only the install's connection and both hosts' records change.
    expect(changed(totals(preview.stdout))).toEqual({ create: 0, update: 3, replace: 0, delete: 0 });

    const refused = await driver("up");
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain(line);
    expect(refused.stderr).toContain(`rerun with --allow-move ${id}`);
    expect(refused.stderr).toContain("Nothing was changed");
    // Nothing changed: the stack still places the school on its old host, which still serves it.
    expect((await readOutputs()).sites[id].host).toBe(from);
    await checkSchool(id, outputs);

    const up = await driver("up", "--allow-move", id);
    times["move: up"] = up.seconds;
    expect(up.code, up.stderr.slice(-3000)).toBe(0);
    // The install replaced (created on the new host, then deleted on the old one), the records updated.
    expect(changed(totals(up.stdout))).toEqual({ create: 0, update: 2, replace: 1, delete: 0 });

    const oldPassword = outputs.adminPasswords[id];
    outputs = await readOutputs();
    expect(outputs.sites[id].host).toBe(to);
    // Resolves to the new host only and serves its name there. The site there started empty, with
    // passwords its new host made: the stack's admin password is the new one, and it verifies.
    expect(outputs.adminPasswords[id]).not.toBe(oldPassword);
    await checkSchool(id, outputs);
    // The old host no longer serves or runs the site: no vhost, no cron job, no data directory, no database.
    const leftovers = await onHost(
      oldAddress,
      `for f in /etc/apache2/sites-enabled/moodle-${id}.conf /etc/apache2/sites-available/moodle-${id}.conf /etc/cron.d/moodle-${id} /srv/moodledata/${id}; do
  if [ -e "$f" ]; then echo "$f"; fi
done
mysql -N -B -e "SHOW DATABASES LIKE 'moodle_${id}'"`,
    );
    expect(leftovers.code).toBe(0);
    expect(leftovers.stdout.trim()).toBe("");
    // ...and holds one 0600 archive of it: database dump, config and data.
    const archives = await onHost(oldAddress, `stat -c '%a %n' /srv/moodle/archive/${id}-*.tar.gz`);
    const lines = archives.stdout.trim().split("\n");
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^600 /);
    const listing = await onHost(oldAddress, `tar -tzf ${lines[0].split(" ")[1]}`);
    expect(listing.stdout).toMatch(/^database\.sql$/m);
    expect(listing.stdout).toMatch(/^site-config\.php$/m);

    const check = await fleet("check", "--env", "lab", ...inputs);
    expect(check.code, check.stdout + check.stderr).toBe(0);
    expect(check.stdout).toMatch(/6 ok, 0 failed/);
    // Done: the stacks now place the school where the ledger does, so nothing is left to move.
    const again = await driver("preview");
    expect(again.code).toBe(0);
    expect(again.stdout).not.toContain("MOVE");
  });

  it("reviews a merge request in the pipeline: the lab's state moved to PostgreSQL, its cell previewed there, data loss held until approved", async () => {
    const pg = await startTestPostgres();
    const review = fs.mkdtempSync(path.join(scratch, "review-"));
    try {
      // The lab's state moves from its file backend to PostgreSQL as an operator would move an environment.
      const stackFile = path.join(repoRoot, "Pulumi.lab-lab01.yaml");
      const stackConfig = fs.readFileSync(stackFile, "utf8");
      const backup = await run(FLEET_BIN, ["state", "backup", "--env", "lab", "--out", path.join(review, "backup")]);
      expect(backup.code, backup.stderr).toBe(0);
      const [dir] = fs.readdirSync(path.join(review, "backup")).map((d) => path.join(review, "backup", d));
      const manifest = JSON.parse(fs.readFileSync(path.join(dir, "manifest.json"), "utf8")) as { stacks: { stack: string; file: string }[] };
      expect(manifest.stacks.map((m) => m.stack)).toContain("lab-lab01");
      // The same passphrase as the lab's file backend: the exports' secrets stay encrypted with it.
      const onPostgres = { ...backendEnv("lab"), PULUMI_BACKEND_URL: pg.backendUrl, PGPASSFILE: pg.passfile };
      for (const m of manifest.stacks) {
        const restore = await run(FLEET_BIN, ["state", "restore", "--env", "lab", "--file", path.join(dir, m.file)], undefined, onPostgres);
        expect(restore.code, restore.stderr).toBe(0);
      }
      // The stack's own config file (its secrets' salt) is the same for both backends and stays as it was.
      expect(fs.readFileSync(stackFile, "utf8")).toBe(stackConfig);

      // Checkpoint cost on a real cell: a no-op `up` of the lab on each backend, alternated in one run.
      const noopUp = async (backend: Record<string, string>) => {
        const up = await run(FLEET_BIN, ["up", "--env", "lab", ...inputs, "--secrets-dir", SECRETS], undefined, backend);
        expect(up.code, up.stderr.slice(-3000)).toBe(0);
        expect(changed(totals(up.stdout))).toEqual({ create: 0, update: 0, replace: 0, delete: 0 });
        return up.seconds;
      };
      const seconds = { file: [] as number[], postgres: [] as number[] };
      for (let round = 0; round < 2; round += 1) {
        seconds.file.push(await noopUp({}));
        seconds.postgres.push(await noopUp(onPostgres));
      }
      const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
      times["no-op up, file backend"] = mean(seconds.file);
      times["no-op up, PostgreSQL"] = mean(seconds.postgres);
      console.log(
        `no-op up of the lab's cell: file ${seconds.file.map((x) => x.toFixed(1)).join(", ")} s; PostgreSQL ${seconds.postgres.map((x) => x.toFixed(1)).join(", ")} s; PostgreSQL/file ${(mean(seconds.postgres) / mean(seconds.file)).toFixed(2)}x`,
      );

      // The repository as the merge request leaves it: the fleet's school files with one school gone.
      const repo = path.join(review, "repo");
      fs.mkdirSync(path.join(repo, "schools/lab"), { recursive: true });
      copyPipelineFiles(repo);
      for (const f of fs.readdirSync(scratch).filter((f) => f.endsWith(".csv"))) fs.copyFileSync(path.join(scratch, f), path.join(repo, "schools/lab", f));
      // `fleet` in the jobs: the lab's own, given the job's school files and the lab's secrets directory.
      const labFleet = path.join(review, "lab-fleet.sh");
      fs.writeFileSync(
        labFleet,
        [
          "#!/usr/bin/env bash",
          "set -euo pipefail",
          'files=(--schools "$PWD/schools/lab/schools.csv" --ledger "$PWD/schools/lab/placement.csv")',
          'case $1 in',
          '  preview) set -- "$@" "${files[@]}" --secrets-dir "$LAB_SECRETS" ;;',
          '  validate) set -- "$@" "${files[@]}" ;;',
          "esac",
          'exec "$FLEET_BIN" "$@"',
          "",
        ].join("\n"),
      );
      fs.writeFileSync(
        path.join(repo, ".gitlab-ci-local-variables.yml"),
        [`FLEET: "bash ${labFleet}"`, "FLEET_ENV: lab", 'FLEET_SKIP_SETUP: "1"', ""].join("\n"),
      );
      fs.writeFileSync(path.join(repo, ".gitignore"), ".gitlab-ci-local*\n");
      const git = async (...args: string[]) => {
        const r = await run("git", ["-C", repo, "-c", "user.email=ci@fleet.test", "-c", "user.name=ci", ...args]);
        expect(r.code, `git ${args.join(" ")}: ${r.stderr}`).toBe(0);
      };
      await git("init", "-q", "-b", "main");
      // Never contacted: gitlab-ci-local reads the remote's name for CI_PROJECT_* variables.
      await git("remote", "add", "origin", "https://gitlab.example/schools/moodle-fleet.git");
      await git("add", "-A");
      await git("commit", "-qm", "the lab as deployed");
      await git("checkout", "-q", "-b", "school-leaves");
      const leaving = Object.keys(outputs.sites).sort()[0];
      for (const f of ["schools.csv", "placement.csv"].map((f) => path.join(repo, "schools/lab", f))) {
        fs.writeFileSync(f, fs.readFileSync(f, "utf8").split("\n").filter((l) => !l.startsWith(`${leaving},`)).join("\n"));
      }
      await git("commit", "-qam", `${leaving} leaves`);

      const jobEnv = { ...onPostgres, FLEET_BIN, LAB_SECRETS: SECRETS };
      const { artifact, jobLog } = pipelineFiles(repo);
      const held = await mergeRequestPipeline(repo, jobEnv);
      times["pipeline: merge request (data loss held)"] = held.seconds;
      const out = held.stdout + held.stderr;
      // What gitlab-ci-local printed goes with every failure below: its jobs' logs are in the repository, which is removed.
      const said = `gitlab-ci-local exited ${held.code} after ${held.seconds} s:\n${out.slice(-8000)}`;
      expect(out, said).toMatch(/PASS\s+validate/);
      expect(out, said).toMatch(/PASS\s+cells/);
      expect(JSON.parse(fs.readFileSync(artifact("cells", "cells.json"), "utf8"))).toEqual([{ cell: "lab01", stack: "lab-lab01" }]);
      expect(out, said).toMatch(/FAIL\s+(\[preview\] -> )?preview lab01/);
      expect(jobLog("previewIAlab01"), said).toMatch(/cell lab01: DATA LOSS \(see summary-lab01\.md\)/);
      const summary = fs.readFileSync(artifact("previewIAlab01", "summary-lab01.md"), "utf8");
      expect(summary).toMatch(/DATA LOSS/);
      expect(summary).toContain(leaving);

      const approved = await mergeRequestPipeline(repo, jobEnv, ["--variable", "CI_MERGE_REQUEST_LABELS=fleet-data-loss::lab"]);
      times["pipeline: merge request (approved)"] = approved.seconds;
      expect(approved.stdout + approved.stderr, `gitlab-ci-local: ${(approved.stdout + approved.stderr).slice(-8000)}`).toMatch(/PASS\s+(\[preview\] -> )?preview lab01/);
      expect(jobLog("previewIAlab01")).toMatch(/cell lab01: DATA LOSS, approved for lab by the merge request/);
      // A review changes nothing: the school still serves from the lab, whose own state still has it.
      await checkSchool(leaving, outputs);
      const noop = await driver("preview");
      expect(noop.code).toBe(0);
    } finally {
      pg.stop();
    }
  });

  it("upgrades every site to the second stand-in release through preview and up", async () => {
    // The image carries a second stand-in release (a later version.php); the
    // stack config names it as a reviewed change would, and is put back after.
    const stackFile = path.join(repoRoot, "Pulumi.lab.yaml");
    const original = fs.readFileSync(stackFile, "utf8");
    const digests = await run("bash", [path.join(repoRoot, "lab/image/build.sh"), "--standin-digests"]);
    const second = /^LAB_STANDIN2_SHA256=([0-9a-f]{64})$/m.exec(digests.stdout)?.[1];
    expect(second, digests.stderr).toBeDefined();
    const edited = original
      .replace("url: file:///opt/moodle-standin/moodle-standin.tgz\n", "url: file:///opt/moodle-standin/moodle-standin-2.tgz\n")
      .replace(/(\n\s+sha256: )[0-9a-f]{64}\n/, `$1${second}\n`);
    expect(edited).toContain("moodle-standin-2.tgz");
    expect(edited).toContain(`sha256: ${second}\n`);
    const all = await readOutputs();
    try {
      fs.writeFileSync(stackFile, edited);
      // One update per host (its bootstrap fetches the release beside the
      // running one) and one per site (its command names the new release);
      // nothing replaced, nothing deleted: no data at stake.
      const preview = await driver("preview");
      times["release: preview"] = preview.seconds;
      expect(preview.code, preview.stderr.slice(-3000)).toBe(3);
      expect(changed(totals(preview.stdout))).toEqual({
        create: 0,
        update: Object.keys(all.hosts).length + Object.keys(all.sites).length,
        replace: 0,
        delete: 0,
      });
      const up = await driver("up");
      times["release: up"] = up.seconds;
      expect(up.code, up.stderr.slice(-6000)).toBe(0);

      // Every site runs the second release: its page says so, its database
      // records the new version, and it is out of maintenance.
      for (const [id, site] of Object.entries(all.sites)) {
        const address = all.hosts[site.host].address;
        const page = await inLab("curl", "-sS", "-o", "-", "-w", "\\n%{http_code}", "-H", `Host: ${site.fqdn}`, `http://${address}/`);
        expect(page.stdout.trim().split("\n").pop(), id).toBe("200");
        expect(page.stdout).toContain("release 4.5.1 (stand-in test double)");
        expect(page.stdout).toContain(escapeHtml(site.name));
        const db = await onHost(address, `mysql -N -B -e "SELECT value FROM \\\`moodle_${id}\\\`.mdl_config WHERE name = 'version'"`);
        expect(db.stdout.trim(), id).toBe("2024100701.00");
      }
      const check = await fleet("check", "--env", "lab", ...inputs);
      expect(check.code, check.stdout + check.stderr).toBe(0);
      // Converged: the same config previews no change.
      const again = await driver("preview");
      expect(changed(totals(again.stdout))).toEqual({ create: 0, update: 0, replace: 0, delete: 0 });
    } finally {
      fs.writeFileSync(stackFile, original);
    }
  });

  it("leaves nothing behind on `npm run lab -- down`, and a second down succeeds", async () => {
    // The lab's own daemons, by the pid files it keeps (other libvirtds or BINDs on the machine are not the lab's).
    const pids = ["libvirtd", "virtlogd", "named"].map((d) => Number(fs.readFileSync(`/run/moodle-lab/${d}.pid`, "utf8").trim()));
    expect(pids.every((p) => p > 1)).toBe(true);
    const down = await run("bash", [path.join(repoRoot, "lab/lab.sh"), "down"]);
    times["npm run lab -- down"] = down.seconds;
    expect(down.code).toBe(0);
    expect(virshSucceeds("version")).toBe(false); // libvirtd is gone with its domains
    expect((await run("ip", ["netns", "list"])).stdout).not.toMatch(new RegExp(`^${NETNS}\\b`, "m"));
    const alive = (pid: number) => {
      try {
        process.kill(pid, 0);
        return true;
      } catch {
        return false;
      }
    };
    // An exiting process may take a moment to be reaped.
    for (let i = 0; i < 50 && pids.some(alive); i++) await new Promise((r) => setTimeout(r, 100));
    expect(pids.filter(alive)).toEqual([]);
    // No guest of the lab is left running.
    expect((await run("pgrep", ["-f", "guest=lab01-"])).code).toBe(1);
    expect(fs.existsSync(CREDENTIALS)).toBe(false);
    const again = await run("bash", [path.join(repoRoot, "lab/lab.sh"), "down"]);
    expect(again.code).toBe(0);
  });
});
