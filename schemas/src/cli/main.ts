// pswm-policy's entry point: the tool (policy-tool.ts) with this process's arguments and streams.
import { pswmPolicy } from './policy-tool.ts';

// Runs on import too: bin/pswm-policy.js imports this module rather than executing it.
process.exitCode = await pswmPolicy(process.argv.slice(2));
