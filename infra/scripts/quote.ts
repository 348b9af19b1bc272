/**
 * Quoting for everything the fleet sends to a VM: shell words, embedded files,
 * PHP string literals. Every untrusted value (a school's name, a URL, an SSH
 * key comment) passes through one of these before it lands in a script.
 */

/** Characters that never need quoting in a POSIX shell word. */
const SHELL_SAFE = /^[A-Za-z0-9_@%+=:,./-]+$/;

function assertNoNul(s: string, what: string): void {
  if (s.includes("\0")) {
    throw new Error(`${what}: NUL characters cannot be passed through a shell`);
  }
}

/**
 * Quotes `s` as one POSIX shell word. The result, pasted anywhere a word is
 * expected, expands to exactly `s`: no parameter expansion, command
 * substitution, globbing or word splitting happens inside single quotes, and a
 * single quote itself is written as `'\''` (close, escaped quote, reopen).
 * Words made only of harmless characters are returned as they are, to keep
 * generated scripts readable.
 */
export function shellQuote(s: string): string {
  assertNoNul(s, "shellQuote");
  if (s === "") return "''";
  if (SHELL_SAFE.test(s)) return s;
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

/** Quotes each argument and joins them with spaces: a ready-made command line. */
export function shellJoin(args: readonly string[]): string {
  return args.map(shellQuote).join(" ");
}

/**
 * Returns a here-document (`<<'DELIM'` … `DELIM`) that feeds `content` to a
 * command's standard input verbatim. The delimiter is quoted, so the shell
 * expands nothing in the body, and it is chosen so that no line of the content
 * equals it. A here-document always ends with a newline: one is appended when
 * `content` lacks it (use {@link base64Embed} when the bytes must be exact).
 *
 * Usage: `cat > file ${heredoc(text)}` — the returned string starts with `<<`
 * and ends with the closing delimiter line and a newline.
 */
export function heredoc(content: string, base = "MOODLE_FLEET_EOF"): string {
  assertNoNul(content, "heredoc");
  if (!/^[A-Z][A-Z0-9_]*$/.test(base)) throw new Error(`heredoc: bad delimiter base ${JSON.stringify(base)}`);
  const body = content.endsWith("\n") ? content : `${content}\n`;
  const lines = new Set(body.split("\n"));
  let delimiter = base;
  for (let i = 1; lines.has(delimiter); i++) delimiter = `${base}_${i}`;
  return `<<'${delimiter}'\n${body}${delimiter}\n`;
}

/**
 * Returns a shell pipeline that writes the exact bytes of `content` (UTF-8) to
 * standard output: `printf '%s' '<base64>' | base64 -d`. Useful for binary
 * content or text whose trailing newlines matter.
 */
export function base64Embed(content: string | Uint8Array): string {
  const b64 = Buffer.from(content).toString("base64");
  return `printf '%s' ${shellQuote(b64)} | base64 -d`;
}

/**
 * Quotes `s` as a PHP single-quoted string literal. Inside single quotes PHP
 * only interprets `\\` and `\'`; escaping every backslash and quote makes the
 * literal evaluate to exactly `s` for any input.
 */
export function phpQuote(s: string): string {
  return `'${s.replace(/\\/g, "\\\\").replace(/'/g, "\\'")}'`;
}

/**
 * Quotes `s` as a MariaDB/MySQL single-quoted string literal, for sessions
 * whose sql_mode does not contain NO_BACKSLASH_ESCAPES (the generated SQL
 * makes sure of that). The escaping rule is the same as PHP's.
 */
export function sqlQuote(s: string): string {
  assertNoNul(s, "sqlQuote");
  return phpQuote(s);
}

/** Quotes a MariaDB identifier (database or table name) with backticks. */
export function sqlIdent(s: string): string {
  assertNoNul(s, "sqlIdent");
  if (s === "") throw new Error("sqlIdent: empty identifier");
  return "`" + s.replace(/`/g, "``") + "`";
}
