import { z } from "zod";

/**
 * The shape of a fleet stack's outputs: what the mail-out, the monitoring
 * targets and the status report read. A cell stack and the merged outputs of
 * all cells have the same shape. Secrets are kept in their own output so the
 * plain inventory stays readable with `pulumi stack output`.
 */
export const siteOutputSchema = z.object({
  schoolId: z.string().regex(/^\d{8}$/),
  name: z.string(),
  town: z.string(),
  email: z.string(),
  tier: z.string(),
  host: z.string(),
  fqdn: z.string(),
  url: z.string(),
  adminUser: z.string(),
});

export const hostOutputSchema = z.object({
  name: z.string(),
  hypervisor: z.string(),
  address: z.string(),
  tier: z.string(),
  vcpu: z.number().int(),
  memoryMiB: z.number().int(),
  dataDiskGiB: z.number().int(),
  siteSlots: z.number().int(),
  siteCount: z.number().int(),
});

export const hypervisorOutputSchema = z.object({
  name: z.string(),
  capacity: z.object({ vcpu: z.number().int(), memoryMiB: z.number().int() }),
  hostCount: z.number().int(),
});

export const fleetOutputsSchema = z.object({
  domain: z.string(),
  /** Keyed by school id. */
  sites: z.record(z.string(), siteOutputSchema),
  /** Keyed by host name. */
  hosts: z.record(z.string(), hostOutputSchema),
  /** Keyed by hypervisor name. */
  hypervisors: z.record(z.string(), hypervisorOutputSchema),
  /** Secret in the stack: school id -> initial admin password. */
  adminPasswords: z.record(z.string(), z.string()),
});

export type SiteOutput = z.infer<typeof siteOutputSchema>;
export type HostOutput = z.infer<typeof hostOutputSchema>;
export type HypervisorOutput = z.infer<typeof hypervisorOutputSchema>;
export type FleetOutputs = z.infer<typeof fleetOutputsSchema>;
