import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { describe, expect, it } from "vitest";
import { leadWithAlnum, PASSWORD_SPECIALS, PASSWORD_SPECIALS_LEADING_ALNUM } from "../../../../infra/components/moodle-site";
import { fleetProgram } from "../../../../infra/program";
import { computedState, promiseOf, stackConfigValues, testSecrets } from "../../../support/mocks";

// Internal, but the only way to know every registration of a mock run finished.
const settings = require("@pulumi/pulumi/runtime/settings") as { waitForRPCs(): Promise<void> };

const FIXTURES = path.resolve(__dirname, "../../../fixtures/fleet");
const PASSWORD = "+=Ab3-cD4_eF5.gH6:iJ7,k%";

/**
 * The fleet's program under mocks where every generated password starts with
 * specials. `existing`: the passwords are already in the stack, so their state
 * keeps the specials in the old order (the engine keeps the old inputs of an
 * ignored property).
 */
async function passwordsOf(existing: boolean) {
  const inputs: { type: string; name: string; inputs: Record<string, any> }[] = [];
  await pulumi.runtime.setMocks(
    {
      newResource(args) {
        inputs.push({ type: args.type, name: args.name, inputs: args.inputs });
        if (args.type !== "random:index/randomPassword:RandomPassword") return { id: `${args.name}-id`, state: computedState(args.type, args.name, args.inputs) };
        const overrideSpecial = existing ? PASSWORD_SPECIALS : args.inputs.overrideSpecial;
        return { id: `${args.name}-id`, state: { ...args.inputs, overrideSpecial, result: PASSWORD } };
      },
      call: (args) => args.inputs,
    },
    "moodle-fleet",
    "test",
    false,
  );
  pulumi.runtime.setAllConfig(
    { ...stackConfigValues(path.join(FIXTURES, "Pulumi.test.yaml")), "moodle-fleet:singleStack": "true", ...testSecrets() },
    ["moodle-fleet:sshPrivateKey", "moodle-fleet:dnsTsigSecret"],
  );
  const out = await fleetProgram({ schoolsFile: path.join(FIXTURES, "schools.csv"), ledgerFile: path.join(FIXTURES, "placement.csv") })();
  const admin = (await promiseOf(out.adminPasswords as pulumi.Output<Record<string, string>>)) as Record<string, string>;
  // Every registration (the installs' with their resolved stdin) has reached the mocks.
  await settings.waitForRPCs();
  return { admin, inputs };
}

describe("generated passwords", () => {
  it("start with a letter or digit once generated, and reach the install exactly as mailed", async () => {
    const { admin, inputs } = await passwordsOf(false);
    const values = Object.values(admin);
    expect(values.length).toBe(5);
    for (const p of values) {
      expect(p).toMatch(/^[A-Za-z0-9]/);
      expect([...p].sort()).toEqual([...PASSWORD].sort());
    }
    const passwords = inputs.filter((r) => r.type === "random:index/randomPassword:RandomPassword");
    expect(passwords.length).toBe(10);
    for (const r of passwords) expect([...r.inputs.overrideSpecial].sort()).toEqual([...PASSWORD_SPECIALS].sort());
    expect(PASSWORD_SPECIALS_LEADING_ALNUM).not.toBe(PASSWORD_SPECIALS);
    const install = inputs.find((r) => r.name === "04101234-install")!;
    const stdin = install.inputs.stdin;
    expect(JSON.stringify(stdin)).toContain(admin["04101234"]);
  });

  it("stay exactly as stored when the stack holds them from before the rule", async () => {
    const { admin } = await passwordsOf(true);
    for (const p of Object.values(admin)) expect(p).toBe(PASSWORD);
  });
});

describe("leadWithAlnum", () => {
  it("moves leading specials to the end and keeps everything else", () => {
    expect(leadWithAlnum("-+=abc")).toBe("abc-+=");
    expect(leadWithAlnum("Abc-+")).toBe("Abc-+");
    expect(leadWithAlnum("%9x")).toBe("9x%");
    for (const c of PASSWORD_SPECIALS) expect(leadWithAlnum(`${c}Zz9${c}`)).toMatch(/^Z/);
  });
});
