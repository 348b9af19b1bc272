import { driverCommand } from "../driver/fleet-command";

export const command = driverCommand("destroy", "Removes the cells' resources (sites are archived first)");
