import * as fs from "node:fs";

/**
 * Peak resident memory of every process below this one, by role (cell
 * worker, engine, each plugin), sampled from /proc. getrusage's
 * RUSAGE_CHILDREN would only give the largest reaped descendant, and the
 * engine and plugins are grandchildren that exit before the worker does.
 */
export class RssSampler {
  private timer?: NodeJS.Timeout;
  private peaks = new Map<string, number>();
  /** Last seen CPU time (user + system, clock ticks) of each process, with its role. */
  private cpu = new Map<number, { role: string; ticks: number }>();

  constructor(private readonly root = process.pid, private readonly everyMs = 250) {}

  start(): void {
    this.peaks.clear();
    this.cpu.clear();
    this.timer = setInterval(() => this.sample(), this.everyMs);
    this.timer.unref();
  }

  /** Peak RSS in MiB and CPU seconds (processes seen, summed) per role since start(). */
  stop(): { peakRssMiB: Record<string, number>; cpuSeconds: Record<string, number> } {
    if (this.timer) clearInterval(this.timer);
    this.sample();
    const cpuSeconds: Record<string, number> = {};
    // Clock ticks are 100 per second on Linux.
    for (const { role, ticks } of this.cpu.values()) cpuSeconds[role] = Math.round(((cpuSeconds[role] ?? 0) + ticks / 100) * 10) / 10;
    return {
      peakRssMiB: Object.fromEntries([...this.peaks].sort().map(([role, kib]) => [role, Math.round(kib / 1024)])),
      cpuSeconds,
    };
  }

  private sample(): void {
    const parent = new Map<number, number>();
    const info = new Map<number, { comm: string; rssKiB: number; cmd: string; ticks: number }>();
    for (const entry of fs.readdirSync("/proc")) {
      if (!/^\d+$/.test(entry)) continue;
      const pid = Number(entry);
      try {
        const status = fs.readFileSync(`/proc/${pid}/status`, "utf8");
        const ppid = Number(/^PPid:\s+(\d+)/m.exec(status)?.[1] ?? 0);
        const rss = Number(/^VmRSS:\s+(\d+)/m.exec(status)?.[1] ?? 0);
        const comm = /^Name:\s+(.*)$/m.exec(status)?.[1] ?? "?";
        // utime and stime: fields 14 and 15 of stat, counted after the ")" that ends comm.
        const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
        const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
        const ticks = Number(fields[11]) + Number(fields[12]);
        parent.set(pid, ppid);
        info.set(pid, { comm, rssKiB: rss, cmd: fs.readFileSync(`/proc/${pid}/cmdline`, "utf8"), ticks });
      } catch {
        // gone between readdir and read
      }
    }
    const below = (pid: number): boolean => {
      for (let p = parent.get(pid); p !== undefined && p > 1; p = parent.get(p)) if (p === this.root) return true;
      return false;
    };
    for (const [pid, i] of info) {
      if (!below(pid)) continue;
      const role = roleOf(i.comm, i.cmd);
      this.peaks.set(role, Math.max(this.peaks.get(role) ?? 0, i.rssKiB));
      this.cpu.set(pid, { role, ticks: i.ticks });
    }
    const self = info.get(this.root);
    if (self) this.peaks.set("driver (node)", Math.max(this.peaks.get("driver (node)") ?? 0, self.rssKiB));
  }
}

function roleOf(comm: string, cmd: string): string {
  if (comm === "node") return cmd.includes("cell-worker") ? "cell worker (node: program + Automation API)" : "node (other)";
  if (comm === "pulumi") return "pulumi engine";
  // comm is cut at 15 characters: every plugin would be "pulumi-resource".
  const exe = cmd.split("\0")[0].split("/").pop() ?? comm;
  return exe || comm;
}
