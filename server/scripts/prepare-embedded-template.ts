// Run by `npm install` (root postinstall): prepares the embedded database template so that the first
// `pswm-server start` does not run initdb. Never fails the install: without the template the first
// start initialises the database itself, only slower.
import { prepareTemplate } from '../src/db/embedded-template.ts';

const started = performance.now();
try {
  const { path, created } = await prepareTemplate();
  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  console.log(created ? `pswm: embedded database template written to ${path} (${seconds} s)` : `pswm: embedded database template ${path} is ready`);
} catch (error) {
  console.warn(`pswm: could not prepare the embedded database template (the first start will initialise it): ${(error as Error).message}`);
}
