import * as fs from "node:fs";
import { join } from "node:path";
import { ToolError } from "../common/cli";

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

/**
 * Makes sure only one mail-out works on a directory at a time, so two runs
 * can never send to the same school. A lock left by a process that no
 * longer exists (killed) is taken over.
 */
export function lockDirectory(dir: string): () => void {
  const path = join(dir, ".mailout.lock");
  for (let tries = 0; tries < 3; tries += 1) {
    try {
      const fd = fs.openSync(path, "wx", 0o600);
      fs.writeSync(fd, `${process.pid}\n`);
      fs.closeSync(fd);
      return () => fs.rmSync(path, { force: true });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
      const pid = Number.parseInt(fs.readFileSync(path, "utf8"), 10);
      if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && alive(pid))
        throw new ToolError(`${dir} is in use by another mail-out (pid ${pid}); wait for it to finish`);
      fs.rmSync(path, { force: true });
    }
  }
  throw new ToolError(`cannot lock ${dir} (${path})`);
}
