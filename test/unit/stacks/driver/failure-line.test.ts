import { describe, expect, it } from "vitest";
import { nameSchoolAndHost } from "../../../../stacks/driver/failure-line";

const plan = {
  sites: [
    { schoolId: "04100013", host: "hv01-vm03" },
    { schoolId: "04100001", host: "hv01-vm01" },
  ],
  hosts: [{ name: "hv01-vm01" }, { name: "hv01-vm03" }, { name: "hv01-vm13" }],
} as never;

describe("a cell's failure line", () => {
  it("names the school and the host of a site's resource", () => {
    expect(nameSchoolAndHost("04100013-install: after 3 failed attempts: dial tcp 10.30.0.12:22: i/o timeout", plan)).toBe(
      "04100013-install (school 04100013, host hv01-vm03): after 3 failed attempts: dial tcp 10.30.0.12:22: i/o timeout",
    );
  });

  it("names the host of a VM's own resource, not a host whose name it only starts with", () => {
    expect(nameSchoolAndHost("hv01-vm13-bootstrap: exit 1", plan)).toBe("hv01-vm13-bootstrap (host hv01-vm13): exit 1");
    expect(nameSchoolAndHost("hv01-vm01: error creating libvirt domain", plan)).toBe("hv01-vm01 (host hv01-vm01): error creating libvirt domain");
  });

  it("leaves alone what belongs to no school or host, and a school no longer planned", () => {
    for (const e of ["hv01-pool: no space", "error: update failed", "04109999-dns: refused"]) expect(nameSchoolAndHost(e, plan)).toBe(e);
  });
});
