import { existsSync, renameSync, unlinkSync, writeFileSync } from "node:fs";
import { basename, dirname, join } from "node:path";

/** A file's new content. */
export interface FileWrite {
  path: string;
  text: string;
}

const tmpOf = (path: string) => join(dirname(path), `.${basename(path)}.${process.pid}.tmp`);

/**
 * Replaces files so that readers (and a crash) see each one either old or
 * new, never half written. Every new content is written to a temporary file
 * beside its target first; only when all of them are on disk are they
 * renamed into place, in the order given. A failure while writing leaves
 * every target untouched. Callers order the writes so that a crash between
 * two renames leaves a state the next run repairs (records before the
 * ledger that refers to them).
 */
export function writeFilesAtomic(writes: readonly FileWrite[]): void {
  const written: string[] = [];
  try {
    for (const w of writes) {
      const tmp = tmpOf(w.path);
      writeFileSync(tmp, w.text, { encoding: "utf8", flag: "wx" });
      written.push(tmp);
    }
    for (const w of writes) renameSync(tmpOf(w.path), w.path);
  } catch (error) {
    for (const tmp of written) if (existsSync(tmp)) unlinkSync(tmp);
    throw error;
  }
}
