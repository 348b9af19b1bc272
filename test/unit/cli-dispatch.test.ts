import { describe, expect, it } from "vitest";
import { main, parseFlags, positiveInteger, UsageError, type Command, type CommandIO } from "../../stacks/cli";

function io() {
  const out = { stdout: "", stderr: "" };
  const sink: CommandIO = { stdout: (t) => (out.stdout += t), stderr: (t) => (out.stderr += t), cwd: "/", root: "/" };
  return { out, sink };
}

const echo: Command = {
  name: "echo",
  summary: "prints its flags",
  usage: "[--name X] [--loud]",
  run(args, { stdout }) {
    const flags = parseFlags(args, { name: "string", loud: "boolean" });
    stdout(JSON.stringify(flags));
    return 0;
  },
};

describe("parseFlags", () => {
  const spec = { schools: "string", write: "boolean" } as const;

  it("reads --name value, --name=value and booleans", () => {
    expect(parseFlags(["--schools", "a.csv", "--write"], spec)).toEqual({ schools: "a.csv", write: true });
    expect(parseFlags(["--schools=x=y.csv"], spec)).toEqual({ schools: "x=y.csv" });
    expect(parseFlags([], spec)).toEqual({});
  });

  it("rejects what it does not know", () => {
    for (const args of [["--nope"], ["file"], ["--schools"], ["--schools", "--write"], ["--write=1"], ["--write", "--write"], ["--schools="]])
      expect(() => parseFlags(args, spec), args.join(" ")).toThrow(UsageError);
  });
});

describe("positiveInteger", () => {
  it("reads a whole number of at least 1, or the fallback when the flag is absent", () => {
    expect(positiveInteger("parallel", "12", 2)).toBe(12);
    expect(positiveInteger("parallel", undefined, 2)).toBe(2);
  });

  it("refuses anything else, naming the flag and what was given; without a fallback the flag is required", () => {
    for (const given of ["0", "-1", "1.5", "1e3", "", " 3", "03", "two"]) {
      expect(() => positiveInteger("attempts", given, 3), given).toThrow(new UsageError(`--attempts must be a whole number of at least 1 (${JSON.stringify(given)})`));
    }
    expect(() => positiveInteger("gib", undefined, undefined, "GiB")).toThrow(new UsageError('--gib must be a whole number of GiB of at least 1 ("")'));
  });
});

describe("main", () => {
  it("dispatches to the named command", async () => {
    const { out, sink } = io();
    expect(await main(["echo", "--name", "x"], sink, [echo])).toBe(0);
    expect(out.stdout).toBe('{"name":"x"}');
  });

  it("prints usage and exits 2 on bad usage or unknown commands", async () => {
    const bad = io();
    expect(await main(["echo", "--bogus"], bad.sink, [echo])).toBe(2);
    expect(bad.out.stderr).toContain("fleet echo: unknown option --bogus\nusage: fleet echo [--name X] [--loud]");
    const unknown = io();
    expect(await main(["nope"], unknown.sink, [echo])).toBe(2);
    expect(unknown.out.stderr).toMatch(/unknown command "nope"[\s\S]*echo {2}prints its flags/);
    const none = io();
    expect(await main([], none.sink, [echo])).toBe(2);
  });

  it("shows a command's help", async () => {
    const { out, sink } = io();
    expect(await main(["echo", "--help"], sink, [echo])).toBe(0);
    expect(out.stdout).toBe("usage: fleet echo [--name X] [--loud]\n  prints its flags\n");
  });
});
