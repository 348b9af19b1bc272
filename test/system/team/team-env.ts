import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { spawn } from "node:child_process";
import { pathToFileURL } from "node:url";
import { parse, stringify } from "yaml";
import { repoRoot, toolchainEnv, ensurePassphraseFile } from "../../../stacks/toolchain";

export const TEST_CLI = path.join(__dirname, "fleet-test-cli.ts");
/** tsx's loader by path: `--import tsx` would resolve from the working directory, a temporary one here. */
export const TSX_IMPORT = pathToFileURL(path.join(repoRoot, "node_modules/tsx/dist/loader.mjs")).href;

/** Two hypervisors (cells) and four schools: two per cell, one VM each. */
export const SCHOOLS = [
  "id,name,town,email,tier",
  "04180001,Grundschule Nord,Ulm,nord@04180001.schulen.example,",
  "04180002,Realschule Süd,Ulm,sued@04180002.schulen.example,",
  "04180003,Gymnasium West,Biberach,west@04180003.schulen.example,",
  "04180004,Werkrealschule Ost,Biberach,ost@04180004.schulen.example,",
  "",
].join("\n");
export const LEDGER = ["school_id,host", "04180001,hva-vm01", "04180002,hva-vm01", "04180003,hvb-vm01", "04180004,hvb-vm01", ""].join("\n");

export interface TeamEnv {
  env: string;
  /** Holds Pulumi.<env>.yaml and schools/, as the repository root does for a real environment. */
  root: string;
  /** Environment of every `fleet` and `pulumi` run: backend, passphrase, password source. */
  vars: Record<string, string>;
  fleet(args: readonly string[], opts?: { cwd?: string }): Promise<Run>;
  pulumi(args: readonly string[]): Promise<Run>;
  /** Starts `fleet` and resolves once it has printed `marker` on stderr (or ended). */
  fleetUntil(args: readonly string[], marker: RegExp): { started: Promise<void>; done: Promise<Run> };
  removeSchool(id: string): void;
  cleanup(): void;
}

export interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function run(cmd: string, args: readonly string[], env: Record<string, string>, cwd: string, marker?: { re: RegExp; seen: () => void }): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd, env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => {
      stderr += d;
      if (marker && marker.re.test(stderr)) marker.seen();
    });
    child.on("error", reject);
    child.on("close", (code) => {
      marker?.seen();
      resolve({ code: code ?? 1, stdout, stderr });
    });
  });
}

/**
 * A throw-away environment on the given backend: two cells (hva, hvb) built
 * from the lab's config with their own names and addresses, four schools,
 * a generated passphrase and generated secrets, all under a temporary
 * directory. Cell stack config files land in the repository root (ignored),
 * where the driver keeps them; cleanup removes them.
 */
export function createTeamEnv(opts: { env: string; backendUrl: string; extraVars?: Record<string, string> }): TeamEnv {
  const { env } = opts;
  const root = fs.mkdtempSync(path.join(os.tmpdir(), `fleet-${env}-`));
  const base = parse(fs.readFileSync(path.join(repoRoot, "Pulumi.lab.yaml"), "utf8")) as { config: Record<string, any> };
  const [lab] = base.config["moodle-fleet:hypervisors"];
  base.config["moodle-fleet:hypervisors"] = ["hva", "hvb"].map((name, k) => ({
    ...lab,
    name,
    pool: { name: `${env}-${name}`, path: path.join(root, "pool", name) },
    addresses: { ...lab.addresses, cidr: `10.77.${k + 1}.0/24`, first: `10.77.${k + 1}.10`, last: `10.77.${k + 1}.99`, gateway: `10.77.${k + 1}.1` },
  }));
  base.config["moodle-fleet:domain"] = `${env}.lab.example`;
  base.config["moodle-fleet:dns"] = { ...base.config["moodle-fleet:dns"], zone: `${env}.lab.example` };
  fs.writeFileSync(path.join(root, `Pulumi.${env}.yaml`), stringify(base));
  fs.mkdirSync(path.join(root, "schools"));
  fs.writeFileSync(path.join(root, "schools", "schools.csv"), SCHOOLS);
  fs.writeFileSync(path.join(root, "schools", "placement.csv"), LEDGER);
  const secrets = path.join(root, "secrets");
  fs.mkdirSync(secrets, { mode: 0o700 });
  const { privateKey } = crypto.generateKeyPairSync("ed25519");
  fs.writeFileSync(path.join(secrets, "sshPrivateKey"), privateKey.export({ format: "pem", type: "pkcs8" }), { mode: 0o600 });
  fs.writeFileSync(path.join(secrets, "dnsTsigSecret"), crypto.randomBytes(32).toString("base64"), { mode: 0o600 });

  const vars: Record<string, string> = {
    ...toolchainEnv(),
    PULUMI_BACKEND_URL: opts.backendUrl,
    PULUMI_CONFIG_PASSPHRASE_FILE: ensurePassphraseFile(path.join(root, "passphrase")),
    FLEET_TEST_ROOT: root,
    FLEET_TEST_SECRETS: secrets,
    ...opts.extraVars,
  };
  const tsx = ["--import", TSX_IMPORT, TEST_CLI];
  return {
    env,
    root,
    vars,
    fleet: (args, o = {}) => run(process.execPath, [...tsx, ...args], vars, o.cwd ?? root),
    pulumi: (args) => run(path.join(repoRoot, ".toolchain/bin/pulumi"), [...args, "--non-interactive", "--color", "never"], vars, repoRoot),
    fleetUntil(args, marker) {
      let seen!: () => void;
      const started = new Promise<void>((r) => (seen = r));
      const done = run(process.execPath, [...tsx, ...args], vars, root, { re: marker, seen: () => seen() });
      return { started, done };
    },
    removeSchool(id) {
      // As `fleet plan --write` does it: out of the school list and the ledger (validate checks both agree).
      for (const file of ["schools.csv", "placement.csv"].map((f) => path.join(root, "schools", f))) {
        fs.writeFileSync(file, fs.readFileSync(file, "utf8").split("\n").filter((l) => !l.startsWith(`${id},`)).join("\n"));
      }
    },
    cleanup() {
      for (const f of fs.readdirSync(repoRoot)) if (f.startsWith(`Pulumi.${env}-`) && f.endsWith(".yaml")) fs.rmSync(path.join(repoRoot, f));
      fs.rmSync(root, { recursive: true, force: true });
    },
  };
}
