import * as fs from "node:fs";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import * as libvirt from "@pulumi/libvirt";

/**
 * A small cell program for the driver's system test: a libvirt pool and a
 * password per cell. The cell "bad" asks for a pool no directory can be made
 * for, so it fails. Each run of a cell's program appends "<cell> <pid>" to
 * runs.log in the work directory, which tells which worker process ran it.
 */
export function driverTestProgram(args: { work: string; poolPrefix: string }, cell: string) {
  return async () => {
    fs.appendFileSync(path.join(args.work, "runs.log"), `${cell} ${process.pid}\n`);
    const config = new pulumi.Config("moodle-fleet");
    const provider = new libvirt.Provider(`${cell}-libvirt`, { uri: "qemu:///system" });
    const pool = new libvirt.Pool(
      `${cell}-pool`,
      { name: `${args.poolPrefix}-${cell}`, type: "dir", path: cell === "bad" ? "/dev/null/pool" : path.join(args.work, cell) },
      { provider },
    );
    const password = new random.RandomPassword(`${cell}-password`, { length: 16 });
    return {
      pool: pool.name,
      cell: config.requireObject<string[]>("cell"),
      secretLength: config.requireSecret("dnsTsigSecret").apply((s) => s.length),
      password: password.result,
    };
  };
}
