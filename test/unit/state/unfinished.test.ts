import { describe, expect, it } from "vitest";
import { refreshArgs } from "../../../stacks/state/pending";
import { errorLine, SEED_TYPE, unfinishedSeeds } from "../../../stacks/state/unfinished";

const urn = (type: string, name: string) => `urn:pulumi:prod-hv01::moodle-fleet::moodle-fleet:infra:Fleet$${type}::${name}`;
const READ_BACK = "error while retrieving remote ISO: error while copying remote volume to local disk, bytesCopied 0 !=  378880 volume.size";

describe("seeds whose read-back failed after their upload", () => {
  it("are the seeds with initialization errors, and nothing else", () => {
    const resources = [
      { urn: urn(SEED_TYPE, "hv01-vm01-seed"), type: SEED_TYPE },
      { urn: urn(SEED_TYPE, "hv01-vm02-seed"), type: SEED_TYPE, initErrors: [READ_BACK] },
      { urn: urn(SEED_TYPE, "hv01-vm03-seed"), type: SEED_TYPE, initErrors: [] },
      // An install whose create failed is the engine's to retry (its update runs the install again).
      { urn: urn("command:remote:Command", "04000001-install"), type: "command:remote:Command", initErrors: ["exit status 1"] },
      { urn: urn("libvirt:index/volume:Volume", "hv01-vm02-root"), type: "libvirt:index/volume:Volume", initErrors: ["upload failed"] },
    ];
    expect(unfinishedSeeds(resources)).toEqual([{ urn: urn(SEED_TYPE, "hv01-vm02-seed"), errors: [READ_BACK] }]);
  });

  it("are read again by a refresh of exactly them", () => {
    const seeds = [urn(SEED_TYPE, "hv01-vm02-seed"), urn(SEED_TYPE, "hv01-vm04-seed")];
    expect(refreshArgs("prod-hv01", seeds)).toEqual([
      "refresh", "--stack", "prod-hv01", "--yes", "--skip-preview", "--target", seeds[0], "--target", seeds[1],
    ]);
  });

  it("are named in a note by their error on one line, URNs as names", () => {
    const failedRetry = `updating ${urn(SEED_TYPE, "hv01-vm02-seed")}: 1 error occurred:\n\t* doesn't support update\n\n`;
    expect(errorLine(failedRetry)).toBe("updating hv01-vm02-seed: 1 error occurred: * doesn't support update");
    expect(errorLine(READ_BACK)).toBe(READ_BACK.replace(/\s+/g, " "));
    expect(errorLine("x".repeat(300))).toHaveLength(200);
  });
});
