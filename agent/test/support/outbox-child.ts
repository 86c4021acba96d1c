// Child process for the outbox crash test: appends the records named on the command line, reports
// each one on stdout once append() has returned, then waits to be killed before it can ack.
import { newOutboxRecord, openOutbox } from '../../src/report/outbox.ts';

const [dir, countText] = process.argv.slice(2);
const outbox = await openOutbox(dir);
for (let i = 0; i < Number(countText); i++) {
  const record = newOutboxRecord('script_runs', { index: i, stdout: 'x'.repeat(1000) });
  await outbox.append(record);
  process.stdout.write(`appended ${record.id}\n`);
}
process.stdout.write('waiting\n');
setInterval(() => {}, 60_000);
