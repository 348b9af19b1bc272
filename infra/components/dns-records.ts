import * as pulumi from "@pulumi/pulumi";
import * as command from "@pulumi/command";
import type { FleetSettings, PlannedHost } from "../plan";
import { dnsHostRecordsDeleteScript, dnsHostRecordsScript, dnsStdin } from "../scripts";
import { COMMAND_OUTPUTS } from "./command-outputs";

/**
 * The A records of a host's sites, as one command on the machine that runs
 * Pulumi: a site added, moved or removed changes its list of names, and the
 * command runs again (no `update`: the provider re-runs `create`), deleting
 * what its last run made and no longer wants (dnsHostRecordsScript).
 */
export function hostDnsRecords(
  args: { plan: PlannedHost; fqdns: readonly string[]; dns: FleetSettings["dns"]; tsigSecret: pulumi.Output<string> },
  parent: pulumi.Resource,
): command.local.Command {
  const host = { address: args.plan.address, dns: args.dns };
  return new command.local.Command(
    `${args.plan.name}-dns`,
    {
      create: dnsHostRecordsScript({ ...host, fqdns: args.fqdns }),
      delete: dnsHostRecordsDeleteScript(host),
      // The TSIG secret travels on stdin into a 0600 key file, never in argv.
      stdin: dnsKeyFile(args.tsigSecret, args.dns),
      interpreter: ["/bin/bash", "-c"],
      logging: "stderr",
    },
    { parent, additionalSecretOutputs: COMMAND_OUTPUTS },
  );
}

/**
 * nsupdate's key file, the same for every record: one Output per secret and
 * server that every DNS command takes, instead of one each.
 */
const dnsKeyFiles = new WeakMap<pulumi.Output<string>, { dns: FleetSettings["dns"]; keyFile: pulumi.Output<string> }>();

export function dnsKeyFile(secret: pulumi.Output<string>, dns: FleetSettings["dns"]): pulumi.Output<string> {
  const made = dnsKeyFiles.get(secret);
  if (made?.dns === dns) return made.keyFile;
  const keyFile = secret.apply((s) => dnsStdin(dns, s));
  dnsKeyFiles.set(secret, { dns, keyFile });
  return keyFile;
}
