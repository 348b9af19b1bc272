import * as pulumi from "@pulumi/pulumi";
import * as command from "@pulumi/command";
import type { PlannedHost, FleetSettings } from "../plan";
import { DATA_DISK_DEVICE, DEFAULT_SYSTEM_PATHS, SITE_TOOL_SOURCE_DIR, hostBootstrapScript, siteToolUploadDir } from "../scripts";
import { sshPublicKeyFromPrivateKey } from "../config";
import { hostScriptInput } from "./script-inputs";
import type { Hypervisor } from "./hypervisor";
import { HostVm } from "./host-vm";
import { hostConnection } from "./host-connection";
import { COMMAND_OUTPUTS } from "./command-outputs";
import { hostDnsRecords } from "./dns-records";
import type { FleetSecrets } from "./secrets";

export interface MoodleHostArgs {
  plan: PlannedHost;
  /** The names of the host's sites, in its DNS records. */
  siteFqdns: readonly string[];
  settings: FleetSettings;
  hypervisor: Hypervisor;
  secrets: FleetSecrets;
}

/**
 * One VM that serves many Moodle sites: the VM itself (HostVm), the
 * bootstrap that prepares the shared services (Apache, php-fpm, MariaDB,
 * Redis) and the Moodle release on it, and the DNS records of its sites.
 */
export class MoodleHost extends pulumi.ComponentResource {
  readonly vm: HostVm;
  /** Sites wait for this, never for the domain: resizing a VM must not touch its sites. */
  readonly bootstrap: command.remote.Command;
  readonly siteToolUpload: command.remote.CopyToRemote;
  readonly connection: command.types.input.remote.ConnectionArgs;
  readonly fileSystemGrowth: command.remote.Command;
  readonly dnsRecords: command.local.Command;

  constructor(args: MoodleHostArgs, opts?: pulumi.ComponentResourceOptions) {
    const { plan, settings, hypervisor, secrets } = args;
    super("moodle-fleet:infra:MoodleHost", plan.name, {}, opts);
    // The public key is config when given, else derived from the private key;
    // it is not secret, so it may appear in the cloud-init seed.
    const publicKey = settings.ssh.publicKey
      ? pulumi.output(settings.ssh.publicKey)
      : pulumi.unsecret(secrets.sshPrivateKey.apply(sshPublicKeyFromPrivateKey));
    const scriptInput = publicKey.apply((key) => hostScriptInput(plan, settings, key));

    this.vm = new HostVm({ plan, settings, hypervisor, scriptInput }, { parent: this });

    this.connection = hostConnection({ plan, settings, seededHostKey: this.vm.hostKey, parent: this });

    // The site tool's files as they are in the repository, over SFTP. The
    // state keeps the archive's hash (of names and contents), not its text,
    // and copies again only when that changes; the folder's path in it may
    // differ from one operator's checkout to another's without a diff.
    this.siteToolUpload = new command.remote.CopyToRemote(
      `${plan.name}-site-tool`,
      {
        connection: this.connection,
        // The trailing slash copies the folder's contents into remotePath.
        source: new pulumi.asset.FileArchive(`${SITE_TOOL_SOURCE_DIR}/`),
        remotePath: siteToolUploadDir(DEFAULT_SYSTEM_PATHS),
      },
      { parent: this, dependsOn: [this.vm] },
    );

    const bootstrapScript = scriptInput.apply((input) => hostBootstrapScript(input));
    this.bootstrap = new command.remote.Command(
      `${plan.name}-bootstrap`,
      {
        connection: this.connection,
        // The script is idempotent, and a changed script updates in place:
        // with no `update` the provider runs `create` again (see
        // the site's install, moodle-site.ts). It names the site tool by its digest and
        // installs it from the upload above: a new tool version is this one
        // update (beside the copy), which re-applies the host's sites with it.
        create: bootstrapScript,
        stdin: secrets.tlsPrivateKey,
        logging: "stderr",
      },
      { parent: this, dependsOn: [this.vm, this.siteToolUpload], additionalSecretOutputs: COMMAND_OUTPUTS },
    );

    // After `fleet grow-disk` the volume is larger (HostVm): ext4 grows to
    // it while mounted. Nothing runs when the host is created; the size in
    // the script is what makes a grown disk an update of this step.
    this.fileSystemGrowth = new command.remote.Command(
      `${plan.name}-grow-file-system`,
      {
        connection: this.connection,
        update: growFileSystemScript(plan.dataDiskGiB),
        logging: "stderr",
      },
      { parent: this, dependsOn: [this.vm.dataDiskGrowth, this.bootstrap], additionalSecretOutputs: COMMAND_OUTPUTS },
    );

    // Needs nothing of the VM: a name may point at a host still being made,
    // as it did when each site had its own record.
    this.dnsRecords = hostDnsRecords(
      { plan, fqdns: args.siteFqdns, dns: settings.dns, tsigSecret: secrets.dnsTsigSecret },
      this,
    );

    this.registerOutputs({ address: plan.address });
  }
}

/** Grows the data disk's file system to the disk (a no-op when it fills it already). */
export function growFileSystemScript(dataDiskGiB: number): string {
  return [
    "#!/bin/bash",
    `# The data disk is ${dataDiskGiB} GiB (host record): its file system follows.`,
    "set -euo pipefail",
    `resize2fs ${DATA_DISK_DEVICE}`,
    "",
  ].join("\n");
}
