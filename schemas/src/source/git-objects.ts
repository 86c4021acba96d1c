// Reads blobs straight from a repository's object store (packs, then loose objects) with
// node:zlib. isomorphic-git inflates every packed object with pako, allocating a 64 KB buffer
// each time, and looks for a loose object file before every pack lookup: reading the 12,000 blobs
// of a large policy repository took 4-5 s, most of it that. Every blob read here is checked
// against its id; anything this reader does not handle (another index version, alternates, a
// corrupt object) returns undefined and the caller asks isomorphic-git instead.
import { createHash } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { inflateSync } from 'node:zlib';

export interface BlobReader {
  /** The blob's bytes, or undefined when this reader cannot produce them (the caller falls back). */
  readBlob(oid: string): Promise<Buffer | undefined>;
}

interface PackedObject {
  type: number;
  data: Buffer;
}

const IDX_MAGIC = 0xff744f63;
const BLOB = 3;
const OFS_DELTA = 6;
const REF_DELTA = 7;
const TYPE_NAMES: Record<number, string> = { 1: 'commit', 2: 'tree', 3: 'blob', 4: 'tag' };

class Pack {
  readonly idx: Buffer;
  readonly packFile: string;
  readonly count: number;
  data: Promise<Buffer> | undefined;
  /** Objects already read in this session: delta chains share their bases. */
  readonly objects = new Map<number, PackedObject>();

  constructor(idx: Buffer, packFile: string) {
    this.idx = idx;
    this.packFile = packFile;
    this.count = idx.readUInt32BE(8 + 255 * 4);
  }

  /** Offset of the object in the pack, by binary search in the index's sorted ids. */
  offsetOf(oid: Buffer): number | undefined {
    const { idx, count } = this;
    const first = oid[0];
    let low = first === 0 ? 0 : idx.readUInt32BE(8 + (first - 1) * 4);
    let high = idx.readUInt32BE(8 + first * 4);
    const ids = 8 + 256 * 4;
    while (low < high) {
      const middle = (low + high) >>> 1;
      const order = idx.compare(oid, 0, 20, ids + middle * 20, ids + middle * 20 + 20);
      if (order === 0) {
        const offsets = ids + count * 24;
        const offset = idx.readUInt32BE(offsets + middle * 4);
        if ((offset & 0x80000000) === 0) return offset;
        return Number(idx.readBigUInt64BE(offsets + count * 4 + (offset & 0x7fffffff) * 8));
      }
      if (order < 0) low = middle + 1;
      else high = middle;
    }
    return undefined;
  }
}

export async function openBlobReader(gitdir: string): Promise<BlobReader> {
  const packDir = path.join(gitdir, 'objects', 'pack');
  const names = await fs.readdir(packDir).catch(() => [] as string[]);
  const packs: Pack[] = [];
  for (const name of names.filter((n) => n.endsWith('.idx'))) {
    const idx = await fs.readFile(path.join(packDir, name));
    if (idx.length < 8 + 256 * 4 || idx.readUInt32BE(0) !== IDX_MAGIC || idx.readUInt32BE(4) !== 2) continue;
    packs.push(new Pack(idx, path.join(packDir, name.replace(/\.idx$/, '.pack'))));
  }

  async function readObject(oid: string): Promise<PackedObject | undefined> {
    const id = Buffer.from(oid, 'hex');
    for (const pack of packs) {
      const offset = pack.offsetOf(id);
      if (offset !== undefined) return readPacked(pack, offset);
    }
    return readLoose(gitdir, oid);
  }

  async function readPacked(pack: Pack, offset: number): Promise<PackedObject> {
    const known = pack.objects.get(offset);
    if (known) return known;
    pack.data ??= fs.readFile(pack.packFile);
    const data = await pack.data;
    let position = offset;
    let byte = data[position++];
    const type = (byte >> 4) & 7;
    while (byte & 0x80) byte = data[position++]; // the inflated size: zlib tells us anyway
    let object: PackedObject;
    if (type === OFS_DELTA) {
      byte = data[position++];
      let distance = byte & 0x7f;
      while (byte & 0x80) {
        byte = data[position++];
        distance = (distance + 1) * 128 + (byte & 0x7f);
      }
      const base = await readPacked(pack, offset - distance);
      object = { type: base.type, data: applyDelta(base.data, inflateSync(data.subarray(position))) };
    } else if (type === REF_DELTA) {
      const base = await readObject(data.subarray(position, position + 20).toString('hex'));
      if (!base) throw new Error(`delta base of the object at ${offset} in ${pack.packFile} not found`);
      object = { type: base.type, data: applyDelta(base.data, inflateSync(data.subarray(position + 20))) };
    } else {
      object = { type, data: inflateSync(data.subarray(position)) };
    }
    pack.objects.set(offset, object);
    return object;
  }

  return {
    async readBlob(oid) {
      try {
        const object = await readObject(oid);
        if (!object || object.type !== BLOB || !hasId(object, oid)) return undefined;
        return object.data;
      } catch {
        return undefined; // corrupt or unexpected: isomorphic-git reads it or reports it
      }
    },
  };
}

async function readLoose(gitdir: string, oid: string): Promise<PackedObject | undefined> {
  const file = path.join(gitdir, 'objects', oid.slice(0, 2), oid.slice(2));
  const compressed = await fs.readFile(file).catch(() => undefined);
  if (!compressed) return undefined;
  const raw = inflateSync(compressed);
  const headerEnd = raw.indexOf(0);
  const typeName = raw.subarray(0, raw.indexOf(32)).toString('latin1');
  const type = Number(Object.entries(TYPE_NAMES).find(([, name]) => name === typeName)?.[0]);
  return { type, data: raw.subarray(headerEnd + 1) };
}

/** Git's object id: sha1 of "<type> <size>\0" and the content. */
function hasId(object: PackedObject, oid: string): boolean {
  const hash = createHash('sha1');
  hash.update(`${TYPE_NAMES[object.type]} ${object.data.length}\0`);
  hash.update(object.data);
  return hash.digest('hex') === oid;
}

/** Git's delta format: source and target sizes, then copy-from-source and insert instructions. */
function applyDelta(source: Buffer, delta: Buffer): Buffer {
  let position = 0;
  const readSize = (): number => {
    let size = 0;
    let shift = 0;
    let byte: number;
    do {
      byte = delta[position++];
      size += (byte & 0x7f) * 2 ** shift;
      shift += 7;
    } while (byte & 0x80);
    return size;
  };
  if (readSize() !== source.length) throw new Error('delta source size mismatch');
  const target = Buffer.allocUnsafe(readSize());
  let written = 0;
  while (position < delta.length) {
    const op = delta[position++];
    if (op & 0x80) {
      let offset = 0;
      let size = 0;
      for (let bit = 0; bit < 4; bit++) if (op & (1 << bit)) offset += delta[position++] * 2 ** (8 * bit);
      for (let bit = 0; bit < 3; bit++) if (op & (0x10 << bit)) size += delta[position++] * 2 ** (8 * bit);
      if (size === 0) size = 0x10000;
      written += source.copy(target, written, offset, offset + size);
    } else if (op > 0) {
      written += delta.copy(target, written, position, position + op);
      position += op;
    } else {
      throw new Error('invalid delta instruction 0');
    }
  }
  if (written !== target.length) throw new Error('delta target size mismatch');
  return target;
}
