// While the server closes, every answer says `Connection: close`. Node's close() ends the keep-alive
// connections that are idle at that moment, but one with a request in flight stays open after its
// answer until the client's next request or the 72-s keep-alive timeout, and the close waits for it:
// an agent's poll in flight at a restart held the shutdown until its deadline, and under bench:fleet
// this wait was most of a 15,000-agent instance's stop (2.8–4.8 s).
import fp from 'fastify-plugin';
import type { FastifyInstance } from 'fastify';

async function closingConnections(app: FastifyInstance): Promise<void> {
  let closing = false;
  app.addHook('preClose', (done) => {
    closing = true;
    done();
  });
  app.addHook('onSend', (_request, reply, payload, done) => {
    if (closing) reply.header('connection', 'close');
    done(null, payload);
  });
}

export const closeConnectionsWhenClosing = fp(closingConnections, { name: 'pswm-closing-connections' });
