import { describe, it, expect } from "vitest";
import { kernelCmdline } from "../../../infra/components/host-vm";

describe("kernelCmdline", () => {
  it("splits key=value words into the map the libvirt provider reads back", () => {
    expect(kernelCmdline("root=/dev/vda console=ttyS0 net.ifnames=0")).toEqual({
      root: "/dev/vda",
      console: "ttyS0",
      "net.ifnames": "0",
    });
  });

  it("keeps values containing '=' and puts bare words under _", () => {
    expect(kernelCmdline("  quiet init=/sbin/init a=b=c ro ")).toEqual({ init: "/sbin/init", a: "b=c", _: "quiet ro" });
  });
});
