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

/** libvirtd plus the lab's bridge (10.77.0.1/24 in the lab namespace). */
export function requireLabNetwork(): void {
  requireLibvirtd();
  execFileSync("bash", ["-c", `source ${JSON.stringify(path.join(repoRoot, "lab/lib.sh"))} && lab_bridge_up`], {
    stdio: ["ignore", "inherit", "inherit"],
  });
}

/** The lab guest image (built when its recipe changed): paths of disk, kernel and initrd. */
export function labImage(): { image: string; kernel: string; initrd: string; cmdline: string; standinSha256: string } {
  const env = execFileSync("bash", [path.join(repoRoot, "lab/image/build.sh"), "--print-env"], {
    encoding: "utf8",
    stdio: ["ignore", "pipe", "inherit"],
  });
  const get = (k: string) => {
    const m = new RegExp(`^${k}=(.*)$`, "m").exec(env);
    if (!m) throw new Error(`lab/image/build.sh --print-env gave no ${k}`);
    return m[1].replace(/^'(.*)'$/, "$1");
  };
  return {
    image: get("LAB_IMAGE"),
    kernel: get("LAB_KERNEL"),
    initrd: get("LAB_INITRD"),
    cmdline: get("LAB_KERNEL_CMDLINE"),
    standinSha256: get("LAB_STANDIN_SHA256"),
  };
}

/** Runs a command over SSH inside the lab namespace; retries until `deadlineMs` while the guest boots. */
export async function sshInLab(key: string, address: string, script: string, deadlineMs = 0): Promise<string> {
  const args = [
    "netns", "exec", "moodle-lab", "ssh", "-i", key, "-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=no",
    "-o", "UserKnownHostsFile=/dev/null", "-o", "LogLevel=ERROR", "-o", "ConnectTimeout=5", `root@${address}`, script,
  ];
  const until = Date.now() + deadlineMs;
  for (;;) {
    try {
      return execFileSync("ip", args, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
    } catch (error) {
      if (Date.now() > until) throw error;
      await new Promise((r) => setTimeout(r, 3000));
    }
  }
}
