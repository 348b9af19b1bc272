import type { AddressInfo } from "node:net";
import { SMTPServer } from "smtp-server";

export interface ReceivedMail {
  from: string;
  to: string[];
  raw: Buffer;
}

/** Decides per incoming message (1-based count): accept, refuse with a code, or hold. */
export type Policy = (n: number) => { accept: true } | { accept: false; code: number; message: string } | { hold: () => Promise<void> };

/**
 * A real SMTP server (the smtp-server package) on 127.0.0.1 with a random
 * port, keeping every message it accepted.
 */
export async function startSmtp(policy: Policy = () => ({ accept: true }), refuseRecipient?: (address: string) => boolean) {
  const received: ReceivedMail[] = [];
  let count = 0;
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ["STARTTLS", "AUTH"],
    logger: false,
    onRcptTo(address, _session, callback) {
      if (refuseRecipient?.(address.address)) callback(Object.assign(new Error("no such mailbox"), { responseCode: 550 }));
      else callback();
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on("data", (c: Buffer) => chunks.push(c));
      stream.on("end", () => {
        count += 1;
        const decision = policy(count);
        if ("hold" in decision) {
          void decision.hold().then(() => callback(Object.assign(new Error("held and dropped"), { responseCode: 451 })));
          return;
        }
        if (!decision.accept) {
          callback(Object.assign(new Error(decision.message), { responseCode: decision.code }));
          return;
        }
        received.push({
          from: session.envelope.mailFrom ? session.envelope.mailFrom.address : "",
          to: session.envelope.rcptTo.map((r) => r.address),
          raw: Buffer.concat(chunks),
        });
        callback(null);
      });
    },
  });
  server.on("error", () => undefined);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
  const port = (server.server.address() as AddressInfo).port;
  return {
    url: `smtp://127.0.0.1:${port}`,
    received,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
