import nodemailer from "nodemailer";
import { afterEach, describe, expect, it } from "vitest";
import { isLoopbackHost, smtpTransportOptions } from "../../../../tools/mailout/smtp";
import { startSmtp } from "../smtp-harness";

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()!();
});

describe("SMTP transport", () => {
  it("requires STARTTLS for a relay across the network, and smtps is TLS from the start", () => {
    expect(smtpTransportOptions("smtp://relay.schulen.example:587", {})).toMatchObject({ host: "relay.schulen.example", port: 587, secure: false, requireTLS: true });
    expect(smtpTransportOptions("smtp://10.20.0.25", {})).toMatchObject({ port: 587, requireTLS: true });
    expect(smtpTransportOptions("smtps://relay.schulen.example", {})).toMatchObject({ port: 465, secure: true, requireTLS: false });
  });

  it("speaks plain SMTP only to a relay on this machine", () => {
    for (const h of ["localhost", "127.0.0.1", "127.1.2.3", "[::1]"]) expect(isLoopbackHost(h), h).toBe(true);
    for (const h of ["relay.example", "10.0.0.1", "128.0.0.1", "localhost.example", "::ffff:10.0.0.1"]) expect(isLoopbackHost(h), h).toBe(false);
    expect(smtpTransportOptions("smtp://127.0.0.1:2525", {})).toMatchObject({ requireTLS: false });
  });

  it("with those options, a server without STARTTLS gets nothing, login included", async () => {
    const smtp = await startSmtp();
    cleanups.push(smtp.close);
    const remote = smtpTransportOptions("smtp://relay.schulen.example:587", { FLEET_SMTP_USER: "fleet", FLEET_SMTP_PASSWORD: "not-sent" });
    // The same settings, pointed at a local server that offers no STARTTLS.
    const port = Number(new URL(smtp.url).port);
    const transport = nodemailer.createTransport({ ...remote, host: "127.0.0.1", port, connectionTimeout: 5000, greetingTimeout: 5000, socketTimeout: 5000 });
    await expect(transport.sendMail({ from: "a@b.example", to: "c@d.example", text: "password: x" })).rejects.toThrow(/STARTTLS|TLS/i);
    transport.close();
    expect(smtp.received).toEqual([]);
  });
});
