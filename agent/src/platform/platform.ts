import type { Platform } from '@pswm/schemas';

/** The policy's name for the OS this process runs on; anything else Unix-like counts as linux. */
export function currentPlatform(nodePlatform: NodeJS.Platform = process.platform): Platform {
  if (nodePlatform === 'win32') return 'windows';
  if (nodePlatform === 'darwin') return 'darwin';
  return 'linux';
}
