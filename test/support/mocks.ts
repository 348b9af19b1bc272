import * as fs from "node:fs";
import * as crypto from "node:crypto";
import { parse } from "yaml";
import * as pulumi from "@pulumi/pulumi";
// Internal, but the only way to know every registration of a mock run finished.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const settings = require("@pulumi/pulumi/runtime/settings") as { waitForRPCs(): Promise<void> };

export interface MockResource {
  type: string;
  name: string;
  urn: string;
  inputs: Record<string, any>;
}

/** Stack config of a Pulumi.<stack>.yaml, as the engine hands it to the program. */
export function stackConfigValues(file: string): Record<string, string> {
  const doc = parse(fs.readFileSync(file, "utf8")) as { config?: Record<string, unknown> };
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(doc.config ?? {})) out[k] = typeof v === "string" ? v : JSON.stringify(v);
  return out;
}

/** Secrets a stack would hold, generated fresh: nothing real is ever in a test. */
export function testSecrets(): Record<string, string> {
  const { privateKey } = crypto.generateKeyPairSync("ed25519");
  return {
    "moodle-fleet:sshPrivateKey": privateKey.export({ format: "pem", type: "pkcs8" }).toString(),
    "moodle-fleet:dnsTsigSecret": crypto.randomBytes(32).toString("base64"),
  };
}

/** What the mocks' site install `name` printed as its admin password (the host made it). */
export function installedAdminPassword(name: string): string {
  return `Aa1-${crypto.createHash("sha256").update(name).digest("base64url").slice(0, 20)}`;
}

/** Deterministic stand-in values for what providers compute. */
export function computedState(type: string, name: string, inputs: Record<string, any>): Record<string, any> {
  if (type === "command:remote:Command" && name.endsWith("-install")) {
    return { ...inputs, stdout: `site ready\nadmin-password: ${installedAdminPassword(name)}`, stderr: "" };
  }
  if (type === "random:index/randomPassword:RandomPassword") {
    const digest = crypto.createHash("sha256").update(name).digest("base64url").slice(0, inputs.length - 4);
    return { ...inputs, result: `Aa1-${digest}` };
  }
  if (type === "random:index/randomBytes:RandomBytes") {
    const bytes = crypto.createHash("sha256").update(name).digest().subarray(0, inputs.length);
    return { ...inputs, base64: bytes.toString("base64"), hex: bytes.toString("hex") };
  }
  return inputs;
}

/**
 * Runs a program under Pulumi's mocks and returns every resource it
 * registered (with resolved inputs) and its outputs, resolved.
 */
export async function runUnderMocks(
  program: () => Promise<Record<string, unknown>>,
  config: Record<string, string>,
  secretKeys: string[],
): Promise<{ resources: MockResource[]; outputs: Record<string, unknown>; secretOutputs: Set<string> }> {
  const resources: MockResource[] = [];
  await pulumi.runtime.setMocks(
    {
      newResource(args) {
        resources.push({ type: args.type, name: args.name, urn: `${args.type}::${args.name}`, inputs: args.inputs });
        return { id: `${args.name}-id`, state: computedState(args.type, args.name, args.inputs) };
      },
      call(args) {
        return args.inputs;
      },
    },
    "moodle-fleet",
    "test",
    false,
  );
  pulumi.runtime.setAllConfig(config, secretKeys);
  const exported = await program();
  const outputs: Record<string, unknown> = {};
  const secretOutputs = new Set<string>();
  for (const [k, v] of Object.entries(exported)) {
    if (pulumi.Output.isInstance(v)) {
      outputs[k] = await promiseOf(v);
      if (await (v as any).isSecret) secretOutputs.add(k);
    } else {
      outputs[k] = v;
    }
  }
  await settings.waitForRPCs();
  return { resources, outputs, secretOutputs };
}

export function promiseOf<T>(o: pulumi.Output<T>): Promise<T> {
  return new Promise((resolve) => o.apply((v) => resolve(v)));
}
