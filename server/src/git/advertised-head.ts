// isomorphic-git resolves the remote's HEAD on every fetch, even of one named branch, and fails with
// "Could not find HEAD" when the remote does not advertise it — which is what git does when the
// repository's HEAD names a branch that does not exist (common on self-hosted servers whose default
// branch was never pushed; isomorphic-git issue #1654). The tracked branch never depends on the
// remote's HEAD, so when HEAD is missing we tell isomorphic-git that HEAD is the tracked branch, with
// the protocol's own `symref=HEAD:<ref>` capability. Nothing else reads it: we always fetch by name.

const FLUSH = '0000';

interface PktLine { start: number; end: number; payload: Buffer }

/** The pkt-lines of a v0/v1 ref advertisement, or undefined when `body` is not one. */
function pktLines(body: Buffer): PktLine[] | undefined {
  const lines: PktLine[] = [];
  for (let start = 0; start < body.length;) {
    const header = body.subarray(start, start + 4).toString('latin1');
    if (!/^[0-9a-f]{4}$/.test(header)) return undefined;
    const length = Number.parseInt(header, 16);
    const end = header === FLUSH ? start + 4 : start + length;
    if (length !== 0 && (length < 4 || end > body.length)) return undefined;
    lines.push({ start, end, payload: body.subarray(start + 4, end) });
    start = end;
  }
  return lines;
}

/** `body` with HEAD advertised as refs/heads/<branch> when the remote advertised no HEAD and has the branch. */
export function advertiseBranchAsHead(body: Buffer, branch: string): Buffer {
  const lines = pktLines(body);
  // The first ref line is the first one after the service announcement's flush; it carries the
  // capabilities after a NUL.
  const first = lines?.find((line) => line.payload.includes(0));
  if (!lines || !first) return body;
  const [refPart, capabilities] = first.payload.toString('latin1').split('\0');
  const refName = refPart.split(' ')[1];
  const branchRef = `refs/heads/${branch}`;
  const hasBranch = lines.some((line) => line.payload.toString('latin1').split('\0')[0].trimEnd().endsWith(` ${branchRef}`));
  if (refName === 'HEAD' || capabilities.split(/\s+/).some((c) => c.startsWith('symref=HEAD:')) || !hasBranch) return body;
  const text = `${refPart}\0${capabilities.replace(/\n$/, '')} symref=HEAD:${branchRef}\n`;
  const line = Buffer.concat([Buffer.from((text.length + 4).toString(16).padStart(4, '0'), 'latin1'), Buffer.from(text, 'latin1')]);
  return Buffer.concat([body.subarray(0, first.start), line, body.subarray(first.end)]);
}
