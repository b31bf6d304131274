export {
  resolveCloud,
  isMicrosoftAuthorityHost,
  graphDefaultScope,
  type GraphCloud,
  type CloudEndpoints,
} from './cloud.js';
export {
  validateDrivePath,
  splitDrivePath,
  encodeDrivePath,
  sideBySideName,
  type DrivePathCheck,
} from '../../shared/drive-path.js';
export {
  createGraphAuth,
  createGraphAuthRegistry,
  type GraphAuth,
  type GraphAuthOptions,
  type GraphAuthDeps,
  type GraphCredential,
} from './graph-auth.js';
export {
  createOneDriveDestination,
  DEFAULT_CHUNK_BYTES,
  DEFAULT_UPLOAD_SESSION_THRESHOLD,
  type OneDriveDestination,
  type OneDriveDestinationDeps,
  type OneDriveDestinationOptions,
} from './onedrive-destination.js';
export { sitePath, type OneDriveTarget, type DriveSelector } from './drive-target.js';
export { GraphRequestError } from './graph-errors.js';
export { alignChunkSize, UPLOAD_FRAGMENT_UNIT } from './upload-session.js';
