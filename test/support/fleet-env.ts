import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { execFile, execFileSync } from "node:child_process";
import { parse, stringify } from "yaml";
import { fleetCellProgramRef, runCells, type CellResult } from "../../stacks/driver/run-cells";
import type { Operation } from "../../stacks/driver/cell-worker";
import { repoRoot, stateEnv, toolchainEnv, type StateLocation } from "../../stacks/toolchain";

type Config = Record<string, unknown>;

/**
 * A throw-away fleet environment for system tests: its own stack file
 * (a committed one with some keys replaced), generated secrets in a 0600
 * directory, its own input files and state, so the tests share nothing with
 * the lab's or an operator's stacks.
 */
export interface TestFleetEnv {
  env: string;
  dir: string;
  stackFile: string;
  secretsDir: string;
  schoolsFile: string;
  ledgerFile: string;
  state: StateLocation;
  /** Runs one driver operation over the given cells. */
  driver(operation: Operation, cells: readonly string[]): Promise<CellResult[]>;
  /** Runs the project's own `pulumi` CLI from the repository root, as an operator would. */
  pulumi(args: readonly string[]): Promise<{ code: number; stdout: string; stderr: string }>;
}

export function createTestFleetEnv(opts: {
  env: string;
  dir: string;
  /** A committed stack file to start from, e.g. Pulumi.lab.yaml. */
  baseStackFile: string;
  /** Edits the config (keys without their namespace) in place. */
  edit: (config: Config) => void;
  schools: string;
  ledger: string;
  /** Secrets besides the generated SSH key and TSIG secret, e.g. tlsPrivateKey. */
  secrets?: Record<string, string>;
}): TestFleetEnv {
  const { env, dir } = opts;
  const doc = parse(fs.readFileSync(opts.baseStackFile, "utf8")) as { config: Record<string, unknown> };
  const plain: Config = {};
  for (const [k, v] of Object.entries(doc.config)) plain[k.replace(/^moodle-fleet:/, "")] = v;
  opts.edit(plain);
  const config = Object.fromEntries(Object.entries(plain).map(([k, v]) => [`moodle-fleet:${k}`, v]));
  const stackFile = path.join(dir, `Pulumi.${env}.yaml`);
  fs.writeFileSync(stackFile, stringify({ config }));

  const secretsDir = path.join(dir, "secrets");
  fs.mkdirSync(secretsDir, { mode: 0o700, recursive: true });
  const { privateKey } = crypto.generateKeyPairSync("ed25519");
  fs.writeFileSync(path.join(secretsDir, "sshPrivateKey"), privateKey.export({ format: "pem", type: "pkcs8" }), { mode: 0o600 });
  fs.writeFileSync(path.join(secretsDir, "dnsTsigSecret"), crypto.randomBytes(32).toString("base64"), { mode: 0o600 });
  for (const [name, value] of Object.entries(opts.secrets ?? {})) fs.writeFileSync(path.join(secretsDir, name), value, { mode: 0o600 });

  const schoolsFile = path.join(dir, "schools.csv");
  const ledgerFile = path.join(dir, "placement.csv");
  fs.writeFileSync(schoolsFile, opts.schools);
  fs.writeFileSync(ledgerFile, opts.ledger);
  const state = { stateDir: path.join(repoRoot, ".state", env), passphraseFile: path.join(repoRoot, ".state", `${env}.passphrase`) };

  return {
    env,
    dir,
    stackFile,
    secretsDir,
    schoolsFile,
    ledgerFile,
    state,
    driver: (operation, cells) =>
      runCells({
        env,
        cells,
        operation,
        parallel: 2,
        program: fleetCellProgramRef({ schoolsFile, ledgerFile }),
        expectedResources: () => 0,
        envVars: stateEnv(state),
        stackFile,
        secretsDir,
        out: { write: () => true },
      }),
    pulumi: (args) =>
      new Promise((resolve) => {
        execFile(
          path.join(repoRoot, ".toolchain/bin/pulumi"),
          [...args, "--non-interactive", "--color", "never"],
          { cwd: repoRoot, env: { ...process.env, ...toolchainEnv(), ...stateEnv(state) }, maxBuffer: 64 << 20 },
          (error, stdout, stderr) => resolve({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr }),
        );
      }),
  };
}

/** Removes a test environment's stacks' config files from the repository root (the driver writes them there). */
export function removeCellStackFiles(env: string): void {
  for (const f of fs.readdirSync(repoRoot)) if (f.startsWith(`Pulumi.${env}-`) && f.endsWith(".yaml")) fs.rmSync(path.join(repoRoot, f));
}

/** A self-signed wildcard certificate and its key, made with openssl for a test's `tls` config. */
export function selfSignedWildcard(domain: string, dir: string): { certificate: string; privateKey: string } {
  const key = path.join(dir, "tls.key");
  const cert = path.join(dir, "tls.crt");
  execFileSync("openssl", ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-days", "2",
    "-subj", `/CN=*.${domain}`, "-keyout", key, "-out", cert], { stdio: "ignore" });
  const out = { certificate: fs.readFileSync(cert, "utf8"), privateKey: fs.readFileSync(key, "utf8") };
  fs.rmSync(key);
  return out;
}
