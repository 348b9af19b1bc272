import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { afterEach, describe, expect, it, vi } from "vitest";
import { fleetProgram } from "../../../../infra/program";
import { adminPasswordFromInstallOutput } from "../../../../infra/scripts";
import { computedState, promiseOf, stackConfigValues, testSecrets } from "../../../support/mocks";

const FIXTURES = path.resolve(__dirname, "../../../fixtures/fleet");

/** The fleet's admin passwords under mocks whose installs print `stdoutOf(install name)`. */
async function adminPasswordsWhenInstallsPrint(stdoutOf: (install: string) => string): Promise<Record<string, string>> {
  await pulumi.runtime.setMocks(
    {
      newResource(args) {
        const state = computedState(args.type, args.name, args.inputs);
        if (args.name.endsWith("-install")) state.stdout = stdoutOf(args.name);
        return { id: `${args.name}-id`, state };
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
  return (await promiseOf(out.adminPasswords as pulumi.Output<Record<string, string>>)) as Record<string, string>;
}

afterEach(() => vi.restoreAllMocks());

describe("the admin passwords the installs print", () => {
  it("are the stack's admin passwords, by school", async () => {
    const admin = await adminPasswordsWhenInstallsPrint((install) => `site ready\nadmin-password: pw-${install}`);
    expect(Object.keys(admin).length).toBe(5);
    for (const [school, password] of Object.entries(admin)) expect(password).toBe(`pw-${school}-install`);
  });

  it("leave out, with a warning naming it, a school whose install printed none", async () => {
    const warn = vi.spyOn(pulumi.log, "warn").mockImplementation(() => Promise.resolve());
    const admin = await adminPasswordsWhenInstallsPrint((install) =>
      install === "04101258-install" ? "site ready" : `site ready\nadmin-password: pw-${install}`,
    );
    expect(Object.keys(admin).sort()).not.toContain("04101258");
    expect(Object.keys(admin).length).toBe(4);
    const warnings = warn.mock.calls.map(([message]) => message);
    expect(warnings).toEqual([expect.stringContaining("1 school(s) have no admin password")]);
    expect(warnings[0]).toContain("04101258");
    expect(warnings[0]).not.toContain("pw-");
  });
});

describe("adminPasswordFromInstallOutput", () => {
  it("takes the last admin-password line, whole", () => {
    expect(adminPasswordFromInstallOutput("a\nadmin-password: x y+z")).toBe("x y+z");
    expect(adminPasswordFromInstallOutput("admin-password: old\nadmin-password: new\n")).toBe("new");
  });

  it("finds none in output without one, or without output", () => {
    expect(adminPasswordFromInstallOutput("site ready")).toBeUndefined();
    expect(adminPasswordFromInstallOutput("admin-password: ")).toBeUndefined();
    expect(adminPasswordFromInstallOutput(" admin-password: x")).toBeUndefined();
    expect(adminPasswordFromInstallOutput("")).toBeUndefined();
    expect(adminPasswordFromInstallOutput(undefined)).toBeUndefined();
  });
});
