export * from "./types";
export { buildFleetPlan, selectHypervisors, FleetPlanError, type FleetPlanInputs } from "./fleet-plan";
export * from "./placement";
export { formatPlacementReport } from "./report";
export { baseImageVolumeName, hostVolumeNames, type HostVolumeNames } from "./libvirt-names";
