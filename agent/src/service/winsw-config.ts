// The Windows service wrapper's configuration. node.exe (and so pswm.exe) does not speak the Service
// Control Manager protocol, so the service the SCM starts is WinSW (shipped beside pswm.exe as
// pswm-service.exe, from the node-windows npm package), which starts `pswm.exe service`, passes the
// SCM's stop on as Ctrl+C and reports the state back. docs/architecture.md says why WinSW.
import { MANAGED_MARKER, SERVICE_NAME, serviceArgv, type ServiceCommandLine } from './unit-files.ts';

/** The wrapper's files in the data folder: WinSW finds its XML by its own base name. */
export const WRAPPER_BASENAME = 'pswm-service';
export const WRAPPER_FILES = { exe: `${WRAPPER_BASENAME}.exe`, exeConfig: `${WRAPPER_BASENAME}.exe.config`, xml: `${WRAPPER_BASENAME}.xml` } as const;

/** Restart delays after the 1st, 2nd and 3rd+ failure (growing, so a crash loop stays slow), and
 * the failure count resets after a day without one. Used for the SCM's failure actions (sc.exe
 * failure) and written into the XML for anyone who reinstalls with `pswm-service.exe install`. */
export const FAILURE_DELAYS_SECONDS = [10, 60, 300] as const;
export const FAILURE_RESET_SECONDS = 86_400;
/** How long WinSW waits after Ctrl+C before it kills the agent. Below the 20 s Windows gives a
 * service to stop; the agent finishes or abandons its iteration on Ctrl+C (SIGINT) well within. */
export const STOP_TIMEOUT_SECONDS = 15;

function xmlEscape(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** pswm-service.xml. Arguments go one per <argument> element (WinSW quotes those with spaces);
 * `%` is doubled because WinSW expands environment variables in every value. */
export function winswXml(opts: ServiceCommandLine): string {
  const value = (text: string) => xmlEscape(text.replace(/%/g, '%%'));
  const [executable, ...args] = serviceArgv(opts);
  return [
    `<!-- ${MANAGED_MARKER.slice(2)} -->`,
    '<service>',
    `  <id>${SERVICE_NAME}</id>`,
    '  <name>pswm agent</name>',
    '  <description>pswm agent: converges this machine to its policy and reports back</description>',
    `  <executable>${value(executable)}</executable>`,
    ...args.map((arg) => `  <argument>${value(arg)}</argument>`),
    `  <env name="PSWM_HOME" value="${value(opts.dataDir)}"/>`,
    `  <workingdirectory>${value(opts.dataDir)}</workingdirectory>`,
    '  <startmode>Automatic</startmode>',
    `  <stoptimeout>${STOP_TIMEOUT_SECONDS} sec</stoptimeout>`,
    ...FAILURE_DELAYS_SECONDS.map((delay) => `  <onfailure action="restart" delay="${delay} sec"/>`),
    `  <resetfailure>${FAILURE_RESET_SECONDS / 86_400} day</resetfailure>`,
    // the agent logs to logs\ itself; the wrapper keeps only its own and the console output, bounded
    `  <logpath>${value(opts.dataDir)}\\logs</logpath>`,
    '  <log mode="roll-by-size"><sizeThreshold>1024</sizeThreshold><keepFiles>3</keepFiles></log>',
    '</service>',
    '',
  ].join('\r\n');
}

/** sc.exe failure's actions= value: restart/<ms>/restart/<ms>/... */
export function scFailureActions(): string {
  return FAILURE_DELAYS_SECONDS.map((delay) => `restart/${delay * 1000}`).join('/');
}
