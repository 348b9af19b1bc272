import { execFileSync } from "node:child_process";
import * as path from "node:path";
import { repoRoot } from "../../stacks/toolchain";

/**
 * Starts libvirtd (inside the lab's network namespace) for a system test.
 * Where the machine cannot run it, the test fails loudly unless the person
 * running it set LAB=skip: a missing hypervisor is never a silent pass.
 */
export function requireLibvirtd(): void {
  if (process.getuid?.() !== 0) {
    throw new Error("system tests need root for libvirtd and network namespaces (set LAB=skip to skip them knowingly)");
  }
  execFileSync("bash", ["-c", `source ${JSON.stringify(path.join(repoRoot, "lab/lib.sh"))} && lab_netns_up && lab_libvirtd_up`], {
    stdio: ["ignore", "inherit", "inherit"],
  });
}

export function virsh(...args: string[]): string {
  return execFileSync("virsh", ["-c", "qemu:///system", ...args], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
}

export function virshSucceeds(...args: string[]): boolean {
  try {
    virsh(...args);
    return true;
  } catch {
    return false;
  }
}

/** LAB=skip is the person's explicit choice; the suite says so loudly. */
export const labSkipped = process.env.LAB === "skip";
if (labSkipped) {
  console.warn("\n*** LAB=skip: system tests against libvirtd, BIND and SSH are NOT run ***\n");
}
