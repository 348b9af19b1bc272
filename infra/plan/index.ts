export * from "./types";
export { buildFleetPlan, selectHypervisors, FleetPlanError, type FleetPlanInputs } from "./fleet-plan";
export * from "./placement";
export { formatPlacementReport } from "./report";
