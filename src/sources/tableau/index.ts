/** Public surface of the Tableau source, for the composition root and the CLI. */
export {
  createTableauSource,
  type TableauSource,
  type TableauSourceDeps,
  type TableauSourceOptions,
  type TableauContentView,
  type TableauContentWorkbook,
} from './tableau-source.js';
export type { TableauAuthConfig } from './tableau-auth.js';
export { HIGHEST_SUPPORTED_API_VERSION, MIN_API_VERSION } from './api-version.js';
