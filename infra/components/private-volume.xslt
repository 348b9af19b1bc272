<?xml version="1.0"?>
<!--
  Applied by the libvirt provider (xml.xslt) to the volume it creates. The
  provider asks for mode 644, and the pool's files are named after their VMs:
  any local user of the hypervisor could read a VM's disks. 0600 leaves them
  to libvirtd's user (root); while the VM runs, libvirt's dynamic ownership
  hands the file to QEMU's user, which the mode then covers.
-->
<xsl:stylesheet version="1.0" xmlns:xsl="http://www.w3.org/1999/XSL/Transform">
  <xsl:output method="xml" omit-xml-declaration="yes"/>
  <xsl:template match="@*|node()">
    <xsl:copy>
      <xsl:apply-templates select="@*|node()"/>
    </xsl:copy>
  </xsl:template>
  <xsl:template match="/volume/target/permissions"/>
  <xsl:template match="/volume/target">
    <xsl:copy>
      <xsl:apply-templates select="@*|node()"/>
      <permissions>
        <mode>0600</mode>
      </permissions>
    </xsl:copy>
  </xsl:template>
</xsl:stylesheet>
