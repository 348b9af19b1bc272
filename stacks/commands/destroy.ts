import { driverCommand } from "../driver/fleet-command";

export const command = driverCommand("destroy", "remove the cells' resources (each site is archived on its host first)");
