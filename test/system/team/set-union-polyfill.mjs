// gitlab-ci-local 4.75.1 (through a bundled execa) calls Set.prototype.union,
// which Node 22 has and the project's Node 20 lacks. Only for running it.
if (typeof Set.prototype.union !== "function") {
  Object.defineProperty(Set.prototype, "union", {
    value(other) {
      const out = new Set(this);
      for (const v of other.keys()) out.add(v);
      return out;
    },
    writable: true,
    configurable: true,
  });
}
