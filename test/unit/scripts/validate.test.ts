import { spawnSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { MOODLE_EMAIL_MAX, moodleEmailProblem } from "../../../infra/scripts";

const hasPhp = spawnSync("bash", ["-c", "command -v php"]).status === 0;

// Addresses around the edges of what Moodle's validate_email() takes.
const CORPUS = [
  "admin@example.org",
  "a@b.c",
  "o'brien@schule.example.de",
  "first.last+moodle@sub.example.org",
  "a%b@x.org",
  "a/b@x.org",
  "A@X.ORG",
  "user@localhost",
  "a..b@x.org",
  ".a@x.org",
  "a.@x.org",
  "a@-x.org",
  "a@x-.org",
  "a@x.org.",
  "a@x..org",
  "a@x_y.org",
  "a@1.2.3.4",
  "a@x.123",
  "a@x",
  "a b@x.org",
  "ä@x.org",
  "a@ä.org",
  '"a b"@x.org',
  "<a@x.org>",
  "a@x.org>",
  "a\n@x.org",
  "@x.org",
  "a@",
  `${"a".repeat(65)}@x.org`,
  `a@${"b".repeat(64)}.org`,
  `${"a".repeat(60)}@${"b".repeat(36)}.org`,
];

/** Moodle's validate_email(): PHP's FILTER_VALIDATE_EMAIL (PHPMailer's default) and no < or >. */
function moodleAccepts(addresses: string[]): boolean[] {
  const r = spawnSync(
    "php",
    ["-r", '$a = json_decode(stream_get_contents(STDIN)); echo json_encode(array_map(fn($x) => filter_var($x, FILTER_VALIDATE_EMAIL) !== false && !preg_match("/[<>]/", $x), $a));'],
    { input: JSON.stringify(addresses), encoding: "utf8" },
  );
  if (r.status !== 0) throw new Error(r.stderr);
  return JSON.parse(r.stdout);
}

describe("moodleEmailProblem", () => {
  it("accepts ordinary school addresses and names what is wrong with bad ones", () => {
    expect(moodleEmailProblem("sekretariat@grundschule-am-bach.example.de")).toBeNull();
    expect(moodleEmailProblem("a@x")).toMatch(/domain/);
    expect(moodleEmailProblem("a..b@x.org")).toMatch(/local part/);
    expect(moodleEmailProblem("a@x.123")).toMatch(/top-level/);
    expect(moodleEmailProblem(`${"a".repeat(60)}@${"b".repeat(36)}.org`)).toMatch(new RegExp(`longer than ${MOODLE_EMAIL_MAX}`));
  });

  it.skipIf(!hasPhp)("never accepts an address Moodle would refuse, and refuses only what the docs say", () => {
    const php = moodleAccepts(CORPUS);
    CORPUS.forEach((address, i) => {
      const ours = moodleEmailProblem(address) === null;
      if (ours) expect(php[i], `we accept ${JSON.stringify(address)}, Moodle does not`).toBe(true);
      // Where Moodle accepts and we refuse, it is the documented subset: too long for Moodle's column.
      if (php[i] && !ours) expect(address.length, JSON.stringify(address)).toBeGreaterThan(MOODLE_EMAIL_MAX);
    });
  });
});
