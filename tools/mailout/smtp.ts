import nodemailer from "nodemailer";
import addressparser from "nodemailer/lib/addressparser";
import { UsageError } from "../common/cli";
import type { Letter } from "./message";

export interface SendResult {
  response: string;
}

export interface MailSender {
  send(letter: Letter): Promise<SendResult>;
  close(): void;
}

/** How a failed send ended, as far as the client can know. */
export type FailureKind =
  /** The server refused this recipient; the others can still be sent. */
  | "recipient-refused"
  /** The server refused the message or the session; nothing was delivered. */
  | "refused"
  /** The connection broke while the server might have had the message. */
  | "uncertain";

export function classifySmtpError(error: unknown): FailureKind {
  const e = error as { responseCode?: unknown; command?: unknown; code?: unknown };
  const command = typeof e.command === "string" ? e.command.toUpperCase() : "";
  if (typeof e.responseCode === "number") {
    if (command.startsWith("RCPT") && e.responseCode >= 500) return "recipient-refused";
    return "refused";
  }
  // Before a message is handed over (connecting, greeting, login) nothing can have been delivered.
  if (command === "CONN" || command === "GREETING" || command.startsWith("AUTH") || e.code === "EAUTH") return "refused";
  return "uncertain";
}

/** The bare address of a From value such as `Moodle-Team <moodle@example.org>`. */
export function envelopeAddress(from: string): string {
  const parsed = addressparser(from, { flatten: true });
  const address = parsed[0] && "address" in parsed[0] ? parsed[0].address : undefined;
  if (!address || !address.includes("@")) throw new UsageError(`--from: no e-mail address in ${JSON.stringify(from)}`);
  return address;
}

/** A relay on this machine: nothing sent to it crosses a network. */
export function isLoopbackHost(host: string): boolean {
  const h = host.toLowerCase().replace(/^\[(.*)\]$/, "$1");
  return h === "localhost" || h === "::1" || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h);
}

/**
 * Connection settings for smtp://host:port or smtps://host:port. Every
 * letter carries an admin password, so a relay across the network must
 * speak TLS: smtps from the start, or STARTTLS, which is then required (a
 * server that does not offer it, or a man in the middle stripping it, makes
 * the send fail instead of going out in plain text). Only a relay on this
 * machine's loopback may be spoken to in plain text.
 */
export function smtpTransportOptions(url: string, env: NodeJS.ProcessEnv = process.env) {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new UsageError(`--smtp: not a URL: ${JSON.stringify(url)} (expected smtp://host:port or smtps://host:port)`);
  }
  if (parsed.protocol !== "smtp:" && parsed.protocol !== "smtps:")
    throw new UsageError(`--smtp: expected smtp://host:port or smtps://host:port, got ${JSON.stringify(url)}`);
  if (parsed.username || parsed.password)
    throw new UsageError("--smtp: put no credentials in the URL; set FLEET_SMTP_USER and FLEET_SMTP_PASSWORD instead");
  const secure = parsed.protocol === "smtps:";
  const host = parsed.hostname.replace(/^\[(.*)\]$/, "$1");
  const port = parsed.port === "" ? (secure ? 465 : 587) : Number(parsed.port);
  const user = env.FLEET_SMTP_USER;
  const pass = env.FLEET_SMTP_PASSWORD;
  return {
    host,
    port,
    secure,
    requireTLS: !secure && !isLoopbackHost(host),
    connectionTimeout: 30_000,
    greetingTimeout: 30_000,
    socketTimeout: 120_000,
    ...(user ? { auth: { user, pass: pass ?? "" } } : {}),
  };
}

/**
 * An SMTP client (settings: smtpTransportOptions). Credentials come from
 * FLEET_SMTP_USER and FLEET_SMTP_PASSWORD, never from the command line,
 * where `ps` would show them.
 */
export function smtpSender(url: string, from: string, env: NodeJS.ProcessEnv = process.env): MailSender {
  const options = smtpTransportOptions(url, env);
  const envelopeFrom = envelopeAddress(from);
  const transport = nodemailer.createTransport({ ...options, pool: true, maxConnections: 1, maxMessages: 100 });
  return {
    async send(letter) {
      const info = await transport.sendMail({ envelope: { from: envelopeFrom, to: [letter.to] }, raw: letter.raw });
      return { response: String(info.response ?? "") };
    },
    close() {
      transport.close();
    },
  };
}

/** Parses `N/min` (also `N/m`, `N/minute`, or a bare number meaning per minute). */
export function parseRate(value: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(?:\/\s*(?:m|min|minute))?\s*$/i.exec(value);
  const n = m ? Number(m[1]) : NaN;
  if (!Number.isFinite(n) || n <= 0) throw new UsageError(`--rate: expected messages per minute like 30/min, got ${JSON.stringify(value)}`);
  return n;
}
