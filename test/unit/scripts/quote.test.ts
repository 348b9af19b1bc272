import { execFileSync, spawnSync } from "node:child_process";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { libSection } from "../../../infra/scripts/bash";
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

describe("shellQuote", () => {
  it("round-trips arbitrary NUL-free unicode through bash", () => {
    fc.assert(
      fc.property(anyText, (s) => {
        const out = bashPrints(`printf %s ${shellQuote(s)}`);
        expect(out.equals(Buffer.from(s, "utf8"))).toBe(true);
      }),
      { numRuns: 300 },
    );
  });

  it("keeps each value one word, also next to others", () => {
    fc.assert(
      fc.property(fc.array(anyText, { minLength: 1, maxLength: 5 }), (words) => {
        const out = bashPrints(`printf '%s\\0' ${shellJoin(words)}`).toString("utf8");
        expect(out.split("\0").slice(0, -1)).toEqual(words);
      }),
      { numRuns: 100 },
    );
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
    fc.assert(
      fc.property(anyText, (s) => {
        const out = bashPrints(`cat ${heredoc(s)}`).toString("utf8");
        expect(out).toBe(s.endsWith("\n") ? s : `${s}\n`);
      }),
      { numRuns: 200 },
    );
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
    fc.assert(
      fc.property(anyText, fc.constantFrom("", "\n", "\n\n"), (s, tail) => {
        const out = bashPrints(base64Embed(s + tail));
        expect(out.equals(Buffer.from(s + tail, "utf8"))).toBe(true);
      }),
      { numRuns: 100 },
    );
  });
});

describe("phpQuote / sqlQuote / sq_escape", () => {
  it("escapes only backslash and single quote", () => {
    expect(phpQuote(`a'b\\c"$d`)).toBe(`'a\\'b\\\\c"$d'`);
    expect(sqlQuote("x")).toBe("'x'");
    expect(sqlIdent("we`ird")).toBe("`we``ird`");
  });

  it("the shell's sq_escape matches phpQuote for any secret, in the scripts' C locale too", () => {
    const fn = libSection("sqEscape");
    fc.assert(
      fc.property(anyText, fc.constantFrom("C", "C.UTF-8"), (s, locale) => {
        const out = bashPrints(`${fn}\nsq_escape "$1"`, [s], { ...process.env, LC_ALL: locale }).toString("utf8");
        expect(`'${out}'`).toBe(phpQuote(s));
      }),
      { numRuns: 200 },
    );
  });

  it.skipIf(!hasPhp)("PHP evaluates each literal back to the original string", () => {
    const samples = fc.sample(anyText, 400);
    const program = `<?php\n$v = [${samples.map(phpQuote).join(",\n")}];\necho json_encode($v, JSON_UNESCAPED_UNICODE | JSON_INVALID_UTF8_SUBSTITUTE);\n`;
    const out = execFileSync("php", ["-n"], { input: program }).toString("utf8");
    expect(JSON.parse(out)).toEqual(samples);
  });
});
