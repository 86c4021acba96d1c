// Preload (`node --import <this file>`) for the module-graph tests: at exit, writes Node's internal
// module list to $PSWM_MODULE_TRACE and, with PSWM_TRACE_URLS=1, every module URL the process
// loaded. Separately, because the load hook itself pulls in Node's web streams and bundled undici.
import { writeFileSync } from 'node:fs';

const loaded: string[] = [];
if (process.env.PSWM_TRACE_URLS === '1') {
  process.getBuiltinModule('node:module').registerHooks({
    load(url, context, nextLoad) {
      loaded.push(url);
      return nextLoad(url, context);
    },
  });
}
process.on('exit', () => {
  const internal = (process as unknown as { moduleLoadList: string[] }).moduleLoadList;
  writeFileSync(process.env.PSWM_MODULE_TRACE!, JSON.stringify({ loaded, internal }));
});
