// The baseline of `npm run bench:api`: the cheapest route fastify can serve (a constant JSON body, no
// logging, no hooks), in a process of its own like the pswm server. Prints its URL once listening.
import Fastify from 'fastify';

const app = Fastify({ logger: false });
const BODY = { status: 'ok' };
app.get('/bare', async () => BODY);
await app.listen({ host: '127.0.0.1', port: 0 });
const address = app.server.address();
process.stdout.write(`listening on http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}\n`);
process.on('SIGTERM', () => void app.close().then(() => process.exit(0)));
