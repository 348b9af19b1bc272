import { readFileSync } from "node:fs";
import { z } from "zod";
import { SCHOOL_COLUMNS, type SchoolColumn } from "../../schools/schema";
import { ToolError } from "../common/cli";
import { formatPath } from "../common/outputs";
import defaultMapping from "./default-mapping.json";

/**
 * Spreadsheet header -> school list column. Headers are matched after
 * trimming, collapsing white space and ignoring case, so "E-Mail " and
 * "e-mail" are the same column.
 */
export type HeaderMapping = ReadonlyMap<string, SchoolColumn>;

export const mappingFileSchema = z.record(z.string().trim().min(1, "empty header name"), z.enum(SCHOOL_COLUMNS));

export function headerKey(header: string): string {
  return header.trim().replace(/\s+/g, " ").toLowerCase();
}

export function toMapping(entries: Record<string, SchoolColumn>, shownAs: string): HeaderMapping {
  const map = new Map<string, SchoolColumn>();
  for (const [header, column] of Object.entries(entries)) {
    const key = headerKey(header);
    const before = map.get(key);
    if (before !== undefined && before !== column)
      throw new ToolError(`${shownAs}: header ${JSON.stringify(header)} is mapped to both "${before}" and "${column}"`);
    map.set(key, column);
  }
  return map;
}

export const DEFAULT_MAPPING: HeaderMapping = toMapping(mappingFileSchema.parse(defaultMapping), "tools/import/default-mapping.json");

/** Reads a mapping file: a JSON object {"Spreadsheet header": "id" | "name" | "town" | "email" | "tier"}. */
export function loadMapping(path: string, shownAs = path): HeaderMapping {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, "utf8"));
  } catch (error) {
    const why = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
    throw new ToolError(`${shownAs}: cannot read the mapping (${why}); expected JSON like {"Dienststellennummer": "id", "Schulname": "name"}`);
  }
  const parsed = mappingFileSchema.safeParse(raw);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${shownAs}: ${formatPath(i.path)}: ${i.message}`);
    throw new ToolError(`invalid mapping (each header maps to one of ${SCHOOL_COLUMNS.join(", ")}):\n${lines.join("\n")}`);
  }
  return toMapping(parsed.data, shownAs);
}
