/** The Tableau Server simulator (loopback HTTPS) used by the demo and the integration tests. */
export {
  startTableauSimulator,
  type TableauSimulator,
  type TableauSimulatorOptions,
  type TableauSimulatorStats,
  type TableauFault,
  type TableauFaults,
  type FaultTarget,
  type SimRequestLogEntry,
} from './tableau-simulator.js';
export { buildSimContent, renderViewTable, splitFilterValues, type SimView, type SimWorkbook } from './sim-content.js';
