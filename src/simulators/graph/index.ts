export {
  startGraphSimulator,
  FRAGMENT_UNIT,
  type GraphSimulator,
  type GraphSimulatorOptions,
  type GraphSimulatorStats,
  type SimItemInfo,
} from './graph-simulator.js';
export type { GraphFaults, FaultRule, GraphOperation, TeammateSave } from './faults.js';
export type { SimulatedClient } from './token-service.js';
