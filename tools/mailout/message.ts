import { randomUUID } from "node:crypto";
import MailComposer from "nodemailer/lib/mail-composer";
import type { SiteOutput } from "../../infra/outputs/schema";

export interface LetterOptions {
  /** From header: "Name <addr>" or a bare address. */
  from: string;
  /** How schools reach support; both languages show it as given. */
  support?: string;
  /** Domain for the Message-ID's right-hand side. */
  messageIdDomain: string;
  /** Fixed for reproducible tests; defaults to now. */
  date?: Date;
}

export interface Letter {
  schoolId: string;
  to: string;
  subject: string;
  messageId: string;
  /** The complete RFC 5322 message, CRLF line ends, as written to <id>.eml and sent. */
  raw: Buffer;
}

const DEFAULT_SUPPORT_DE = "Antworten Sie einfach auf diese E-Mail.";
const DEFAULT_SUPPORT_EN = "Simply reply to this e-mail.";

export function letterSubject(site: SiteOutput): string {
  return `Ihre Moodle-Plattform ist bereit / Your Moodle site is ready: ${site.name}`;
}

/** The plain-text body: German first, then English. */
export function letterText(site: SiteOutput, password: string, support?: string): string {
  const base = site.url.replace(/\/+$/, "");
  const login = `${base}/login/index.php`;
  const supportDe = support ?? DEFAULT_SUPPORT_DE;
  const supportEn = support ?? DEFAULT_SUPPORT_EN;
  return [
    "(English version below)",
    "",
    "Sehr geehrte Damen und Herren,",
    "",
    `für Ihre Schule "${site.name}" (${site.town}, Dienststellennummer ${site.schoolId})`,
    "steht ab sofort eine eigene Moodle-Plattform bereit.",
    "",
    `  Adresse:        ${site.url}`,
    `  Benutzername:   ${site.adminUser}`,
    `  Passwort:       ${password}`,
    "",
    "Erste Schritte:",
    `  1. Melden Sie sich unter ${login} mit diesen Zugangsdaten an.`,
    "  2. Ändern Sie das Passwort sofort (Profil > Passwort ändern) und geben Sie",
    "     es nicht per E-Mail weiter.",
    "  3. Tragen Sie im Profil des Administrators eine E-Mail-Adresse Ihrer Schule ein.",
    "  4. Legen Sie die Lehrkräfte an (Website-Administration > Nutzer/innen >",
    "     Nutzer/innen hochladen) und richten Sie die ersten Kurse ein.",
    "",
    `Unterstützung: ${supportDe}`,
    "",
    "Diese Nachricht enthält ein Passwort. Bitte löschen Sie sie, sobald Sie es",
    "geändert haben.",
    "",
    "-------------------------------------------------------------------------",
    "",
    "Dear Sir or Madam,",
    "",
    `your school "${site.name}" (${site.town}, school number ${site.schoolId})`,
    "now has its own Moodle site.",
    "",
    `  Address:        ${site.url}`,
    `  User name:      ${site.adminUser}`,
    `  Password:       ${password}`,
    "",
    "First steps:",
    `  1. Log in at ${login} with these credentials.`,
    "  2. Change the password right away (Profile > Change password) and do not",
    "     pass it on by e-mail.",
    "  3. Enter an e-mail address of your school in the administrator's profile.",
    "  4. Add your teachers (Site administration > Users > Upload users) and set",
    "     up the first courses.",
    "",
    `Support: ${supportEn}`,
    "",
    "This message contains a password. Please delete it once you have changed it.",
    "",
  ].join("\n");
}

/** Builds the message for one school (MIME, UTF-8 text part, encoded headers). */
export async function composeLetter(site: SiteOutput, password: string, options: LetterOptions): Promise<Letter> {
  const messageId = `<moodle-fleet.${site.schoolId}.${randomUUID()}@${options.messageIdDomain}>`;
  const subject = letterSubject(site);
  const composer = new MailComposer({
    from: options.from,
    to: { name: site.name, address: site.email },
    subject,
    text: letterText(site, password, options.support),
    date: options.date ?? new Date(),
    messageId,
    textEncoding: "quoted-printable",
    headers: { "Content-Language": "de, en" },
  });
  const built = await composer.compile().build();
  // RFC 5322 lines end in CRLF; the composer leaves bare LFs in the body.
  const raw = Buffer.from(built.toString("latin1").replace(/\r?\n/g, "\r\n"), "latin1");
  return { schoolId: site.schoolId, to: site.email, subject, messageId, raw };
}
