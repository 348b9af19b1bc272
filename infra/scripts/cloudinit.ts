/**
 * cloud-init NoCloud seed of a host: user-data, meta-data, network-config.
 * All YAML comes from a serializer; every string is double-quoted, so no
 * value (an SSH key comment, a time zone) can be read back by cloud-init's
 * YAML 1.1 parser as anything but the string it was.
 * Nothing secret goes into the seed: the TLS key and site passwords reach the
 * VM later, on the standard input of the remote commands.
 */
import { isIP } from "node:net";
import { Document } from "yaml";
import { REQUIRED_PACKAGES } from "./bootstrap";
import { dataDiskBootcmd, dataMountOf } from "./datadisk";
import type { HostScriptInput } from "./types";
import { validateHostInput } from "./validate";

function toYaml(value: unknown): string {
  const doc = new Document(value, { version: "1.1" });
  return doc.toString({ defaultStringType: "QUOTE_DOUBLE", defaultKeyType: "PLAIN", lineWidth: 0, doubleQuotedAsJSON: true });
}

/** sshd settings written at first boot: keys only. */
export const SSHD_DROP_IN = "PasswordAuthentication no\nKbdInteractiveAuthentication no\nPermitRootLogin prohibit-password\n";

export function cloudInitUserData(host: HostScriptInput): string {
  validateHostInput(host);
  const root = host.sshUser === "root";
  const user: Record<string, unknown> = root
    ? { name: "root", lock_passwd: true, ssh_authorized_keys: [host.sshPublicKey] }
    : {
        name: host.sshUser,
        shell: "/bin/bash",
        sudo: "ALL=(ALL) NOPASSWD:ALL",
        lock_passwd: true,
        ssh_authorized_keys: [host.sshPublicKey],
      };
  const packages = host.bootPackages ?? REQUIRED_PACKAGES;
  const config: Record<string, unknown> = {
    hostname: host.hostName,
    fqdn: host.fqdn,
    prefer_fqdn_over_hostname: false,
    preserve_hostname: false,
    manage_etc_hosts: true,
    timezone: host.timezone,
    ssh_pwauth: false,
    disable_root: !root,
    users: [user],
    write_files: [
      {
        path: "/etc/ssh/sshd_config.d/50-moodle-fleet.conf",
        owner: "root:root",
        permissions: "0644",
        content: SSHD_DROP_IN,
      },
    ],
  };
  // The data disk: formatted when blank and mounted, at every boot before
  // anything else cloud-init does (datadisk.ts says why not fs_setup/mounts).
  const dataMount = dataMountOf(host);
  if (dataMount !== null) config.bootcmd = [dataDiskBootcmd(dataMount)];
  if (packages.length > 0) config.packages = [...packages];
  return `#cloud-config\n${toYaml(config)}`;
}

export function cloudInitMetaData(host: HostScriptInput): string {
  validateHostInput(host);
  return toYaml({ "instance-id": host.hostName, "local-hostname": host.hostName });
}

/** network-config v2: static address on eth0 (guests boot with net.ifnames=0). */
export function cloudInitNetworkConfig(host: HostScriptInput): string {
  validateHostInput(host);
  const v6 = isIP(host.address) === 6;
  const nameservers: Record<string, unknown> = { addresses: [...host.nameservers] };
  if (host.searchDomains && host.searchDomains.length > 0) nameservers.search = [...host.searchDomains];
  return toYaml({
    version: 2,
    ethernets: {
      eth0: {
        match: { name: "eth0" },
        dhcp4: false,
        dhcp6: false,
        addresses: [`${host.address}/${host.prefixLength}`],
        routes: [{ to: v6 ? "::/0" : "0.0.0.0/0", via: host.gateway }],
        nameservers,
      },
    },
  });
}
