import { execFileSync, spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { LIB_SH_PATH } from "../../../infra/scripts/bash";
import { base64Embed, heredoc, phpQuote, shellJoin, shellQuote, sqlIdent, sqlQuote } from "../../../infra/scripts/quote";

const hasPhp = spawnSync("bash", ["-c", "command -v php"]).status === 0;

/** Characters that break naive quoting, mixed into arbitrary unicode. */
const nasty = fc.constantFrom("'", '"', "\\", "$", "`", "\n", "\r", "\t", "!", "*", "?", "[", "]", "{", "}", "~", "#", ";", "&", "|", "<", ">", "(", ")", " ", "%", "-", "=", "ü", "Ö", "\u{1F600}", "\u00a0");
const anyText = fc
  .array(fc.oneof(fc.string({ unit: "binary", maxLength: 8 }), nasty), { maxLength: 24 })
  .map((parts) => parts.join("").replace(/\0/g, ""));

function bashPrints(code: string, args: string[] = [], env: NodeJS.ProcessEnv = process.env): Buffer {
  return execFileSync("bash", ["-c", code, "bash", ...args], { env });
}

/**
 * Runs many cases in one bash (one process per case took most of this
 * file's time): what each snippet printed, in order, after `prelude` (the
 * functions the cases call; it must print nothing). A NUL follows each
 * case's output; no case prints one, since no sample holds one.
 */
function bashPrintsEach(
  snippets: string[],
  { prelude = "", args = [], env = process.env }: { prelude?: string; args?: string[]; env?: NodeJS.ProcessEnv } = {},
): Buffer[] {
  const out = bashPrints([`${prelude}\nprintf '\\0'`, ...snippets.map((code) => `${code}\nprintf '\\0'`)].join("\n"), args, env);
  expect(out.indexOf(0)).toBe(0);
  const outputs: Buffer[] = [];
  let start = 1;
  for (let nul = out.indexOf(0, start); nul !== -1; nul = out.indexOf(0, start)) {
    outputs.push(out.subarray(start, nul));
    start = nul + 1;
  }
  expect(outputs.length).toBe(snippets.length);
  return outputs;
}

/** The samples whose output differs from what was expected (empty when all agree). */
function mismatches<T>(samples: T[], outputs: Buffer[], expected: (sample: T) => Buffer): T[] {
  return samples.filter((sample, k) => !outputs[k].equals(expected(sample)));
}

describe("shellQuote", () => {
  it("round-trips arbitrary NUL-free unicode through bash", () => {
    const samples = fc.sample(anyText, 300);
    const outputs = bashPrintsEach(samples.map((s) => `printf %s ${shellQuote(s)}`));
    expect(mismatches(samples, outputs, (s) => Buffer.from(s, "utf8"))).toEqual([]);
  });

  it("keeps each value one word, also next to others", () => {
    const samples = fc.sample(fc.array(anyText, { minLength: 1, maxLength: 5 }), 100);
    // Words may hold any separator but NUL, so each is printed as its length in bytes and its bytes.
    const frame = `frame() { local LC_ALL=C; printf '%s:%s;' "\${#1}" "$1"; }`;
    const outputs = bashPrintsEach(
      samples.map((words) => `for w in ${shellJoin(words)}; do frame "$w"; done`),
      { prelude: frame },
    );
    const framed = (words: string[]) => Buffer.concat(words.map((w) => Buffer.from(`${Buffer.byteLength(w)}:${w};`, "utf8")));
    expect(mismatches(samples, outputs, framed)).toEqual([]);
  });

  it("quotes the empty string and leaves plain words readable", () => {
    expect(shellQuote("")).toBe("''");
    expect(shellQuote("/srv/moodle/release")).toBe("/srv/moodle/release");
    expect(shellQuote("a b")).toBe("'a b'");
    expect(shellQuote("it's")).toBe("'it'\\''s'");
    expect(shellQuote("~root")).toBe("'~root'");
  });

  it("refuses NUL, which no shell word can hold", () => {
    expect(() => shellQuote("a\0b")).toThrow(/NUL/);
  });

  it("does not run a command substitution in the value", () => {
    const out = bashPrints(`x=${shellQuote("$(echo injected)`echo also`")}; printf %s "$x"`).toString();
    expect(out).toBe("$(echo injected)`echo also`");
  });
});

describe("heredoc", () => {
  it("feeds arbitrary text to a command verbatim (plus the final newline)", () => {
    const samples = fc.sample(anyText, 200);
    const outputs = bashPrintsEach(samples.map((s) => `cat ${heredoc(s)}`));
    expect(mismatches(samples, outputs, (s) => Buffer.from(s.endsWith("\n") ? s : `${s}\n`, "utf8"))).toEqual([]);
  });

  it("picks a delimiter that no line of the content equals", () => {
    const content = "MOODLE_FLEET_EOF\nMOODLE_FLEET_EOF_1\n$(touch /nonexistent)\n";
    const doc = heredoc(content);
    expect(doc.startsWith("<<'MOODLE_FLEET_EOF_2'\n")).toBe(true);
    expect(bashPrints(`cat ${doc}`).toString()).toBe(content);
  });
});

describe("base64Embed", () => {
  it("reproduces the exact bytes, trailing newlines included", () => {
    const samples = fc.sample(fc.tuple(anyText, fc.constantFrom("", "\n", "\n\n")).map(([s, tail]) => s + tail), 100);
    const outputs = bashPrintsEach(samples.map((s) => base64Embed(s)));
    expect(mismatches(samples, outputs, (s) => Buffer.from(s, "utf8"))).toEqual([]);
  });
});

describe("phpQuote / sqlQuote / sq_escape", () => {
  it("escapes only backslash and single quote", () => {
    expect(phpQuote(`a'b\\c"$d`)).toBe(`'a\\'b\\\\c"$d'`);
    expect(sqlQuote("x")).toBe("'x'");
    expect(sqlIdent("we`ird")).toBe("`we``ird`");
  });

  it("the shell's sq_escape matches phpQuote for any secret, in the scripts' C locale too", () => {
    const fn = /^sq_escape\(\) \{\n[^]*?\n\}$/m.exec(readFileSync(LIB_SH_PATH, "utf8"))?.[0];
    expect(fn).toBeDefined();
    const samples = fc.sample(anyText, 200);
    for (const locale of ["C", "C.UTF-8"]) {
      // Each sample is an argument, as the scripts pass secrets: sq_escape "$k".
      const outputs = bashPrintsEach(
        samples.map((_, k) => `sq_escape "\${${k + 1}}"`),
        { prelude: fn!, args: samples, env: { ...process.env, LC_ALL: locale } },
      );
      expect(mismatches(samples, outputs, (s) => Buffer.from(phpQuote(s).slice(1, -1), "utf8"))).toEqual([]);
    }
  });

  it.skipIf(!hasPhp)("PHP evaluates each literal back to the original string", () => {
    const samples = fc.sample(anyText, 400);
    const program = `<?php\n$v = [${samples.map(phpQuote).join(",\n")}];\necho json_encode($v, JSON_UNESCAPED_UNICODE | JSON_INVALID_UTF8_SUBSTITUTE);\n`;
    const out = execFileSync("php", ["-n"], { input: program }).toString("utf8");
    expect(JSON.parse(out)).toEqual(samples);
  });
});
