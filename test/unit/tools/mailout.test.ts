import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { pathToFileURL } from "node:url";
import { simpleParser } from "mailparser";
import { afterEach, describe, expect, it } from "vitest";
import { run } from "../../../stacks/commands/mailout";
import { readJournal } from "../../../tools/mailout/journal";
import { classifySmtpError, parseRate } from "../../../tools/mailout/smtp";
import { captureIO, sampleOutputs, tempDir, writeJson } from "./fixtures";
import { startSmtp } from "./smtp-harness";

const repoRoot = path.resolve(__dirname, "../../..");
const mode = (p: string) => fs.statSync(p).mode & 0o777;
const passwords = Object.values(sampleOutputs().adminPasswords);

function setup() {
  const work = tempDir("mailout");
  const outputs = writeJson(path.join(work, "outputs.json"), sampleOutputs());
  return { work, outputs, out: path.join(work, "letters") };
}

function journalLines(dir: string) {
  return fs
    .readFileSync(path.join(dir, "journal.jsonl"), "utf8")
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l) as { event: string; schoolId: string; messageId: string });
}

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()?.();
});

function expectNoPasswords(text: string) {
  for (const p of passwords) expect(text).not.toContain(p);
}

describe("fleet mailout: letters", () => {
  it("writes one RFC 5322 letter per school, German first, and a mail-merge CSV, all private", async () => {
    const { work, outputs, out } = setup();
    const c = captureIO(work);
    const code = await run(["--outputs", outputs, "--out", out, "--from", "Moodle-Team <moodle@schulen.example>", "--support", "Hotline 0711 123456"], c.io);
    expect(c.stderr()).toBe("");
    expect(code).toBe(0);
    expectNoPasswords(c.stdout() + c.stderr());

    expect(mode(out)).toBe(0o700);
    const files = fs.readdirSync(out).sort();
    expect(files).toEqual(["04101234.eml", "04101246.eml", "04101258.eml", "04101261.eml", "mailmerge.csv"]);
    for (const f of files) expect(mode(path.join(out, f))).toBe(0o600);

    const raw = fs.readFileSync(path.join(out, "04101246.eml"));
    expect(/(^|[^\r])\n/.test(raw.toString("latin1"))).toBe(false); // CRLF only
    const headerBlock = raw.toString("latin1").split("\r\n\r\n")[0];
    expect(headerBlock).toMatch(/^MIME-Version: 1\.0$/m);
    expect(headerBlock).toMatch(/^Date: /m);
    expect(headerBlock).toMatch(/^Message-ID:\s+<moodle-fleet\.04101246\.[^>]+@moodle\.schulen\.example>/m);
    expect(headerBlock).toMatch(/^Subject: =\?UTF-8\?/m); // encoded word: the school name has umlauts
    expect(/[^\x00-\x7f]/.test(headerBlock)).toBe(false);

    const mail = await simpleParser(raw);
    expect(mail.subject).toBe('Ihre Moodle-Plattform ist bereit / Your Moodle site is ready: Gymnasium "Am See", Überlingen');
    expect(mail.to && !Array.isArray(mail.to) ? mail.to.value[0].address : "").toBe("poststelle@04101246.schulen.example");
    expect(mail.from?.value[0].address).toBe("moodle@schulen.example");
    const text = mail.text ?? "";
    expect(text).toContain("https://04101246.moodle.schulen.example/");
    expect(text).toContain("Pw-1246-äöü-secret");
    expect(text).toContain("Benutzername:   admin");
    expect(text).toContain("Hotline 0711 123456");
    expect(text.indexOf("Sehr geehrte")).toBeLessThan(text.indexOf("Dear Sir or Madam"));

    const merge = fs.readFileSync(path.join(out, "mailmerge.csv"), "utf8");
    expect(merge.startsWith("\uFEFFschool_id,name,email,url,admin_user,password\r\n")).toBe(true);
    expect(merge).toContain('04101234,Grundschule am Mühlbach,poststelle@04101234.schulen.example,https://04101234.moodle.schulen.example/,admin,"Pw-1234=""quote"";,x"\r\n');
    expect(merge).toContain('04101246,"Gymnasium ""Am See"", Überlingen"');
  });

  it("fixes the mode of an existing directory and of files left readable", async () => {
    const { work, outputs, out } = setup();
    fs.mkdirSync(out, { mode: 0o755 });
    fs.chmodSync(out, 0o755);
    fs.writeFileSync(path.join(out, "mailmerge.csv"), "old", { mode: 0o644 });
    const c = captureIO(work);
    expect(await run(["--outputs", outputs, "--out", out], c.io)).toBe(0);
    expect(mode(out)).toBe(0o700);
    expect(mode(path.join(out, "mailmerge.csv"))).toBe(0o600);
  });

  it("names the file and the field when the outputs are wrong", async () => {
    const { work, out } = setup();
    const bad = sampleOutputs() as unknown as { sites: Record<string, Record<string, unknown>> };
    bad.sites["04101234"].url = 42;
    const file = writeJson(path.join(work, "bad.json"), bad);
    const c = captureIO(work);
    expect(await run(["--outputs", file, "--out", out], c.io)).toBe(1);
    expect(c.stderr()).toMatch(/bad\.json: sites\["04101234"\]\.url: .*expected string/);
    expect(fs.existsSync(out)).toBe(false);

    const hidden = { ...sampleOutputs(), adminPasswords: "[secret]" };
    const c2 = captureIO(work);
    expect(await run(["--outputs", writeJson(path.join(work, "hidden.json"), hidden), "--out", out], c2.io)).toBe(1);
    expect(c2.stderr()).toContain("--show-secrets");

    const missing = sampleOutputs();
    delete missing.adminPasswords["04101258"];
    const c3 = captureIO(work);
    expect(await run(["--outputs", writeJson(path.join(work, "missing.json"), missing), "--out", out], c3.io)).toBe(1);
    expect(c3.stderr()).toContain('missing.json: adminPasswords["04101258"]: missing');
  });

  it("rejects a bad command line with exit 2", async () => {
    const { work, outputs, out } = setup();
    const c = captureIO(work);
    expect(await run(["--outputs", outputs], c.io)).toBe(2);
    expect(c.stderr()).toContain("--out is required");
    expect(await run(["--outputs", outputs, "--out", out, "--smtp", "smtp://127.0.0.1:1"], c.io)).toBe(2);
    expect(await run(["--outputs", outputs, "--out", out, "--send", "--smtp", "smtp://u:p@127.0.0.1:25"], c.io)).toBe(2);
    expect(c.stderr()).toContain("FLEET_SMTP_PASSWORD");
    expect(() => parseRate("0/min")).toThrow();
    expect(parseRate("30/min")).toBe(30);
  });
});

describe("fleet mailout --send against a real SMTP server on 127.0.0.1", () => {
  it("delivers one message per school, journals each, and a rerun sends nothing", async () => {
    const smtp = await startSmtp();
    cleanups.push(smtp.close);
    const { work, outputs, out } = setup();
    const c = captureIO(work);
    const waits: number[] = [];
    const sleep = async (ms: number) => void waits.push(ms);
    const args = ["--outputs", outputs, "--out", out, "--send", "--smtp", smtp.url, "--from", "moodle@schulen.example", "--rate", "30/min"];
    expect(await run(args, c.io, { sleep })).toBe(0);
    expectNoPasswords(c.stdout() + c.stderr());

    expect(smtp.received.map((m) => m.to)).toEqual([
      ["poststelle@04101234.schulen.example"],
      ["poststelle@04101246.schulen.example"],
      ["poststelle@04101258.schulen.example"],
      ["poststelle@04101261.schulen.example"],
    ]);
    expect(smtp.received.every((m) => m.from === "moodle@schulen.example")).toBe(true);
    const mail = await simpleParser(smtp.received[2].raw);
    expect(mail.subject).toBe("Ihre Moodle-Plattform ist bereit / Your Moodle site is ready: <script>alert(1)</script> & Co");
    expect(mail.text).toContain("https://04101258.moodle.schulen.example/");
    expect(mail.text).toContain("Pw-1258-<>&-secret");
    // What was sent is exactly the letter on disk.
    expect(smtp.received[2].raw.toString().trimEnd()).toBe(fs.readFileSync(path.join(out, "04101258.eml")).toString().trimEnd());

    // 30/min: two seconds between messages, waited three times.
    expect(waits).toHaveLength(3);
    for (const w of waits) expect(w).toBeGreaterThan(1500);

    const journal = journalLines(out);
    expect(journal.filter((e) => e.event === "sent").map((e) => e.schoolId)).toEqual(["04101234", "04101246", "04101258", "04101261"]);
    expect(journal.find((e) => e.event === "sent" && e.schoolId === "04101258")?.messageId).toBe(mail.messageId);
    expect(mode(path.join(out, "journal.jsonl"))).toBe(0o600);
    expectNoPasswords(fs.readFileSync(path.join(out, "journal.jsonl"), "utf8"));

    const c2 = captureIO(work);
    expect(await run(args, c2.io, { sleep })).toBe(0);
    expect(smtp.received).toHaveLength(4);
    expect(c2.stdout()).toContain("0 sent now, 4 sent before");
  });

  it("stops when the server refuses, and a rerun sends only the rest", async () => {
    let refuse = true;
    const smtp = await startSmtp((n) => (refuse && n >= 3 ? { accept: false, code: 451, message: "try again later" } : { accept: true }));
    cleanups.push(smtp.close);
    const { work, outputs, out } = setup();
    const args = ["--outputs", outputs, "--out", out, "--send", "--smtp", smtp.url, "--rate", "6000/min"];
    const c = captureIO(work);
    expect(await run(args, c.io)).toBe(1);
    expect(c.stderr()).toContain("04101258");
    expect(c.stderr()).toContain("451");
    expect(smtp.received.map((m) => m.to[0])).toEqual(["poststelle@04101234.schulen.example", "poststelle@04101246.schulen.example"]);
    const state = readJournal(path.join(out, "journal.jsonl")).states;
    expect(state.get("04101258")?.state).toBe("failed");
    expect(state.has("04101261")).toBe(false);
    const firstId = state.get("04101258")?.messageId;

    refuse = false;
    const c2 = captureIO(work);
    expect(await run(args, c2.io)).toBe(0);
    expect(smtp.received.map((m) => m.to[0])).toEqual([
      "poststelle@04101234.schulen.example",
      "poststelle@04101246.schulen.example",
      "poststelle@04101258.schulen.example",
      "poststelle@04101261.schulen.example",
    ]);
    // The retry is the same message as the refused attempt.
    expect((await simpleParser(smtp.received[2].raw)).messageId).toBe(firstId);
  });

  it("after the process is killed mid-send, resumes without sending any school twice", async () => {
    let killChild: (() => Promise<void>) | undefined;
    const smtp = await startSmtp((n) => (n === 3 && killChild ? { hold: killChild } : { accept: true }));
    cleanups.push(smtp.close);
    const { work, outputs, out } = setup();
    const args = ["--outputs", outputs, "--out", out, "--send", "--smtp", smtp.url, "--rate", "6000/min"];

    // node itself with tsx's loader, so that the killed process is the sender and not a wrapper.
    const loader = pathToFileURL(path.join(repoRoot, "node_modules/tsx/dist/loader.mjs")).href;
    const child = spawn(process.execPath, ["--import", loader, path.join(repoRoot, "stacks/commands/mailout.ts"), ...args], {
      cwd: work,
      stdio: ["ignore", "pipe", "pipe"],
    });
    let childOutput = "";
    child.stdout.on("data", (d: Buffer) => (childOutput += d.toString()));
    child.stderr.on("data", (d: Buffer) => (childOutput += d.toString()));
    const exited = new Promise<NodeJS.Signals | null>((resolve) => child.on("exit", (_code, signal) => resolve(signal)));
    // The server holds the third message unanswered and kills the sender meanwhile.
    killChild = async () => {
      child.kill("SIGKILL");
      await exited;
    };
    expect(await exited).toBe("SIGKILL");
    expectNoPasswords(childOutput);
    expect(smtp.received).toHaveLength(2);

    const state = readJournal(path.join(out, "journal.jsonl")).states;
    expect(state.get("04101234")?.state).toBe("sent");
    expect(state.get("04101246")?.state).toBe("sent");
    expect(state.get("04101258")?.state).toBe("uncertain");

    // The rerun sends the school never tried and leaves the cut-off one to the operator.
    killChild = undefined;
    const c = captureIO(work);
    expect(await run(args, c.io)).toBe(1);
    expect(c.stderr()).toContain("delivery unknown for 04101258");
    expect(c.stderr()).toContain("--resend 04101258");
    expect(smtp.received.map((m) => m.to[0]).slice(2)).toEqual(["poststelle@04101261.schulen.example"]);

    const c2 = captureIO(work);
    expect(await run([...args, "--resend", "04101258"], c2.io)).toBe(0);
    const recipients = smtp.received.map((m) => m.to[0]);
    expect(recipients).toHaveLength(4);
    expect(new Set(recipients).size).toBe(4);

    // --resend refuses a school that was delivered.
    const c3 = captureIO(work);
    expect(await run([...args, "--resend", "04101234"], c3.io)).toBe(2);
    expect(smtp.received).toHaveLength(4);
  });

  it("goes on past a refused recipient and retries it on the next run", async () => {
    let refuse = true;
    const smtp = await startSmtp(undefined, (address) => refuse && address.startsWith("poststelle@04101246."));
    cleanups.push(smtp.close);
    const { work, outputs, out } = setup();
    const args = ["--outputs", outputs, "--out", out, "--send", "--smtp", smtp.url, "--rate", "6000/min"];
    const c = captureIO(work);
    expect(await run(args, c.io)).toBe(1);
    expect(c.stderr()).toMatch(/04101246 to poststelle@04101246\.schulen\.example: refused: 550/);
    expect(smtp.received.map((m) => m.to[0].slice(11, 19))).toEqual(["04101234", "04101258", "04101261"]);
    refuse = false;
    expect(await run(args, captureIO(work).io)).toBe(0);
    expect(smtp.received.map((m) => m.to[0].slice(11, 19))).toEqual(["04101234", "04101258", "04101261", "04101246"]);
  });

  it("tells refusals from cut-off deliveries", () => {
    expect(classifySmtpError({ responseCode: 550, command: "RCPT TO" })).toBe("recipient-refused");
    expect(classifySmtpError({ responseCode: 451, command: "DATA" })).toBe("refused");
    expect(classifySmtpError({ code: "ECONNECTION", command: "CONN" })).toBe("refused");
    expect(classifySmtpError({ code: "ECONNECTION", command: "DATA" })).toBe("uncertain");
  });
});
