#!/bin/bash
# Prints the XSLT the libvirt provider applies to a new storage pool (its
# xml.xslt): the pool's folder becomes 0710, owned by root and by the group
# QEMU runs as. libvirt's default (0711) lets any local user of the
# hypervisor open a VM's disk or cloud-init seed by its predictable name;
# QEMU itself only needs to pass through the folder to open them.
#
# QEMU's group is read from libvirtd (its DAC base label), not assumed: a
# numeric ID differs between distributions. Runs on the machine running
# Pulumi, against the hypervisor's libvirtd. Everything comes from the
# environment: LIBVIRT_URI, DOMAIN_TYPE (kvm or qemu).
set -euo pipefail

for name in LIBVIRT_URI DOMAIN_TYPE; do
  if [[ -z "${!name:-}" ]]; then
    echo "pool-permissions: $name is not set" >&2
    exit 2
  fi
done
if ! command -v virsh >/dev/null 2>&1; then
  echo "pool-permissions: virsh not found (Debian: apt-get install libvirt-clients)" >&2
  exit 1
fi

if [[ ! $DOMAIN_TYPE =~ ^[a-z]+$ ]]; then
  echo "pool-permissions: DOMAIN_TYPE must be a libvirt domain type such as kvm or qemu, not '$DOMAIN_TYPE'" >&2
  exit 2
fi

capabilities=$(virsh -q -c "$LIBVIRT_URI" capabilities)
# <baselabel type='kvm'>+64055:+64055</baselabel>: QEMU's user and group.
label=$(sed -n "s|.*<baselabel type=['\"]${DOMAIN_TYPE}['\"]>\([^<]*\)</baselabel>.*|\1|p" <<<"$capabilities" | head -n 1)
if [[ ! $label =~ ^\+?([0-9]+):\+?([0-9]+)$ ]]; then
  echo "pool-permissions: libvirtd at $LIBVIRT_URI names no DAC user:group for $DOMAIN_TYPE domains ('$label'); without it the pool's folder cannot be closed to other users" >&2
  exit 1
fi
gid=${BASH_REMATCH[2]}
if ((gid == 0)); then
  echo "pool-permissions: QEMU runs as group 0 at $LIBVIRT_URI: the pool's folder would be root's only and no VM could open its disks" >&2
  exit 1
fi

cat <<XSLT
<xsl:stylesheet version="1.0" xmlns:xsl="http://www.w3.org/1999/XSL/Transform">
  <xsl:output method="xml" omit-xml-declaration="yes"/>
  <xsl:template match="@*|node()">
    <xsl:copy>
      <xsl:apply-templates select="@*|node()"/>
    </xsl:copy>
  </xsl:template>
  <xsl:template match="/pool/target/permissions"/>
  <xsl:template match="/pool/target">
    <xsl:copy>
      <xsl:apply-templates select="@*|node()"/>
      <permissions>
        <mode>0710</mode>
        <owner>0</owner>
        <group>$gid</group>
      </permissions>
    </xsl:copy>
  </xsl:template>
</xsl:stylesheet>
XSLT
