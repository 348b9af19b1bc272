import { isDnsLabel } from "../../schools/schema";

/** A host VM's identity: `<hypervisor>-vm<NN>`, numbered per hypervisor from 1. */
export interface HostName {
  hypervisor: string;
  number: number;
}

const HOST = /^(.+)-vm([0-9]{2,})$/;

export function formatHostName(hypervisor: string, number: number): string {
  return `${hypervisor}-vm${String(number).padStart(2, "0")}`;
}

/**
 * Parses a host name. Only the canonical spelling is accepted (`vm03`, not
 * `vm3` or `vm003`), so one VM can never appear under two names.
 */
export function parseHostName(name: string): HostName | undefined {
  const m = HOST.exec(name);
  if (!m || !isDnsLabel(m[1]) || !isDnsLabel(name)) return undefined;
  const number = Number(m[2]);
  if (number < 1 || formatHostName(m[1], number) !== name) return undefined;
  return { hypervisor: m[1], number };
}

/** Orders hosts by number first: "lowest-numbered host" spans hypervisors. */
export function compareHosts(a: HostName, b: HostName): number {
  return a.number - b.number || (a.hypervisor < b.hypervisor ? -1 : a.hypervisor > b.hypervisor ? 1 : 0);
}
